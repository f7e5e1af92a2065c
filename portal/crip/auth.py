"""Staff sessions: password then TOTP. Server-side sessions (portal.domain.staff_sessions) named by
an encrypted cookie; the back office signs its own Flask session with its own secret.

The cookie `crip_sid` (path /crip, HttpOnly, SameSite=Lax, Secure over HTTPS, no expiry date) holds
the random session id and the per-session key, encrypted (SecretBox) with a key derived from
CRIP_SECRET_KEY, which the public site never holds. The unwrapped CRIP key is in the session's row,
encrypted with the per-session key: the row alone, the cookie alone, or the public site's secrets
with both, open nothing. Sign-out and the idle timeout delete the row.
"""
from __future__ import annotations

import base64
import hashlib
from functools import wraps

from flask import abort, current_app, g, redirect, request, url_for

from ..domain import audit, sealing, staff_sessions
from ..extensions import db
from ..models import StaffSession, StaffUser
from ..sessions import SessionInterface
from . import bp

COOKIE = "crip_sid"
PATH = "/crip"
PENDING_SECONDS = 600     # between the password and the second factor (or enrolment)


def _cookie_box() -> bytes:
    secret = current_app.config["CRIP_SECRET_KEY"]
    return hashlib.blake2b(secret.encode(), digest_size=32, person=b"crip-staff-cook").digest()


def _now():
    from ..web import now_utc
    return now_utc()


def _read_cookie() -> tuple[bytes, bytes] | None:
    raw = request.cookies.get(COOKIE, "")
    if not raw or len(raw) > 200:
        return None
    try:
        blob = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
        plain = sealing.decrypt(_cookie_box(), blob)
    except (ValueError, TypeError, sealing.SealError):   # undecodable: no session, a fresh start
        return None
    if len(plain) != staff_sessions.ID_BYTES + 32:
        return None
    return plain[:staff_sessions.ID_BYTES], plain[staff_sessions.ID_BYTES:]


def _cookie_value(session_id: bytes, key: bytes) -> str:
    blob = sealing.encrypt(_cookie_box(), session_id + key)
    return base64.urlsafe_b64encode(blob).decode().rstrip("=")


@bp.after_request
def _write_cookie(response):
    change = g.pop("staff_cookie", None)
    if change == "":
        response.delete_cookie(COOKIE, path=PATH, httponly=True, samesite="Lax",
                               secure=current_app.config["HTTPS"])
    elif change:
        response.set_cookie(COOKIE, change, path=PATH, httponly=True, samesite="Lax",
                            secure=current_app.config["HTTPS"])
    return response


def _opened() -> tuple[StaffSession, bytes] | None:
    """This request's live session and its per-session key (looked up once per request)."""
    if "staff_session" in g:
        return g.staff_session
    if "crip" not in current_app.blueprints or not current_app.config.get("CRIP_SECRET_KEY"):
        g.staff_session = None    # a public-only site: no staff session, whatever the cookie says
        return None
    found = None
    ids = _read_cookie()
    if ids is not None:
        session_id, key = ids
        live = staff_sessions.find(db.session, session_id, now=_now(),
                                   idle_seconds=current_app.config["STAFF_IDLE_TIMEOUT"],
                                   pending_seconds=PENDING_SECONDS)
        if live is None:
            g.staff_cookie = ""     # ended or expired: the cookie is worthless, drop it
            db.session.commit()     # (an expired row was deleted)
        else:
            row, g.staff_account = live       # the account read with the session (see current_user)
            found = (row, key)
            if staff_sessions.touch(row, _now()):   # a write at most every TOUCH_SECONDS; else nothing to commit
                db.session.commit()
    elif request.cookies.get(COOKIE):
        g.staff_cookie = ""
    g.staff_session = found
    return found


def start_session(user: StaffUser, crip_key: bytes | None, stage: str):
    """A new server-side session (any previous one of this browser is ended first)."""
    end_session()
    staff_sessions.purge_expired(db.session, now=_now(), idle_seconds=current_app.config["STAFF_IDLE_TIMEOUT"],
                                 pending_seconds=PENDING_SECONDS)
    session_id, key = staff_sessions.start(db.session, user, stage=stage, crip_key=crip_key, now=_now())
    db.session.commit()
    g.staff_cookie = _cookie_value(session_id, key)
    g.staff_session = (db.session.get(StaffSession, staff_sessions.row_id(session_id)), key)
    g.pop("staff_user", None)


def end_session():
    """Delete this browser's server-side session: a copy of its cookie opens nothing afterwards."""
    ids = _read_cookie()
    if ids is not None:
        staff_sessions.end(db.session, ids[0])
        db.session.commit()
    if request.cookies.get(COOKIE) or ids is not None:
        g.staff_cookie = ""
    g.staff_session = None
    g.staff_user = None


def end_all_sessions(user: StaffUser):
    staff_sessions.end_all(db.session, user.id)
    end_session()


def current_user() -> StaffUser | None:
    """Signed in with both factors, or None."""
    if "staff_user" in g:
        return g.staff_user
    opened = _opened()
    user = None
    if opened is not None and opened[0].stage == "full":
        account = g.get("staff_account")
        if account is not None and account.id == opened[0].user_id:
            user = account                    # read in the same round trip as the session
        else:
            user = db.session.get(StaffUser, opened[0].user_id)
    g.staff_user = user
    return user


def signed_in() -> bool:
    """A valid session past both factors: its page reads (GET, HEAD) have their generic ceiling counted
    in each worker's memory, not in Redis (portal.ratelimit.count_reads_in_memory). Why: rate limits
    guard writes and guessable secrets; signing in, the second factor, the password and every POST
    stay counted in Redis. Reading the desk is neither, a Redis round trip cost more than a third of
    the queue page, and Redis is shared with the public host, which then holds no back-office count."""
    opened = _opened()
    return opened is not None and opened[0].stage == "full"


def pending_user() -> StaffUser | None:
    """Past the password, not yet past the second factor (or enrolment)."""
    opened = _opened()
    if opened is None or opened[0].stage not in ("password", "enrol"):
        return None
    return db.session.get(StaffUser, opened[0].user_id)


def promote(stage: str = "full"):
    row, _key = _opened()
    staff_sessions.promote(row, stage, _now())
    g.pop("staff_user", None)


def crip_key() -> bytes | None:
    """The CRIP private key this session holds (unwrapped once per request), or None."""
    opened = _opened()
    if opened is None:
        return None
    cached = g.get("staff_crip_key")
    if cached is not None and cached[0] is opened[0]:
        return cached[1]
    key = staff_sessions.crip_key(*opened)
    g.staff_crip_key = (opened[0], key)
    return key


def enrol_secret(new_secret) -> str:
    """The TOTP secret being enrolled, kept in the server-side session (encrypted)."""
    row, key = _opened()
    secret = staff_sessions.enrol_secret(row, key)
    if secret is None:
        secret = new_secret()
        staff_sessions.set_enrol_secret(row, key, secret)
        db.session.commit()
    return secret


def require(*roles):
    """Signed in with both factors, and one of `roles` (any role when empty)."""
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            user = current_user()
            if user is None:
                return redirect(url_for("crip.signin", next=request.path))
            if roles and user.role not in roles:
                audit.record(db.session, key=current_app.config["AUDIT_KEY"], actor_id=user.id, action="refused", target=request.path[:80])
                db.session.commit()
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorator


class BackOfficeSessionInterface(SessionInterface):
    """The Flask session (CSRF token, language) of back-office pages is a cookie of its own, on
    /crip only, signed with CRIP_SECRET_KEY: the public site's secret cannot forge it."""

    @staticmethod
    def _back_office() -> bool:
        from flask import has_request_context
        return has_request_context() and (request.path == PATH or request.path.startswith(PATH + "/"))

    def get_cookie_name(self, app):
        return "crip_session" if self._back_office() else super().get_cookie_name(app)

    def get_cookie_path(self, app):
        return PATH if self._back_office() else super().get_cookie_path(app)

    def signing(self, app):
        if not self._back_office():
            return super().signing(app)
        return "crip-session", (app.config["CRIP_SECRET_KEY"],)


@bp.record_once
def _install_session_interface(state):
    state.app.session_interface = BackOfficeSessionInterface()
