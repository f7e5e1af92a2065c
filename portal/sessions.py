"""Flask's signed-cookie session, its signing serializer built once per secret instead of on every
request (Flask builds one per request, cookie or not: a few percent of a cached public page)."""
from __future__ import annotations

from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer


class SessionInterface(SecureCookieSessionInterface):
    """Same cookies, same signatures as Flask's; the serializer (stateless, thread-safe) is kept."""

    def __init__(self):
        self._serializers: dict = {}

    def signing(self, app) -> tuple[str, tuple] | None:
        """(salt, secrets, newest last) of this request's session cookie; None without a secret."""
        if not app.secret_key:
            return None
        return self.salt, (*(app.config["SECRET_KEY_FALLBACKS"] or ()), app.secret_key)

    def get_signing_serializer(self, app):
        signing = self.signing(app)
        if signing is None:
            return None
        serializer = self._serializers.get(signing)
        if serializer is None:
            salt, secrets = signing
            serializer = self._serializers[signing] = URLSafeTimedSerializer(
                list(secrets), salt=salt, serializer=self.serializer,
                signer_kwargs={"key_derivation": self.key_derivation, "digest_method": self.digest_method})
        return serializer
