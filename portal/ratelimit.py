"""Rate limiting (Flask-Limiter): keyed on a keyed hash of the address, never the raw address."""
from __future__ import annotations

import hashlib
import hmac

from flask import current_app, request
from werkzeug.middleware.proxy_fix import ProxyFix

from .extensions import limiter


def client_key() -> str:
    """A keyed hash of the client address: rotates with SECRET_KEY, reveals no address."""
    addr = request.remote_addr or "unknown"
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"addr:" + addr.encode(), hashlib.sha256).hexdigest()[:32]


def init_app(app):
    if app.config["TRUSTED_PROXIES"]:
        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    app.config["RATELIMIT_KEY_PREFIX"] = "portal"
    app.config["RATELIMIT_DEFAULT"] = app.config["RATELIMIT_DEFAULT"]
    limiter._key_func = client_key
    limiter.init_app(app)
