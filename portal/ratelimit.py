"""Rate limiting (Flask-Limiter): keyed on a keyed hash of the address, never the raw address."""
from __future__ import annotations

import hashlib
import hmac
import logging
import time

from limits import parse

from flask import current_app, request
from werkzeug.middleware.proxy_fix import ProxyFix

from .extensions import limiter

log = logging.getLogger(__name__)


def client_key() -> str:
    """A keyed hash of the client address: rotates with SECRET_KEY, reveals no address."""
    addr = request.remote_addr or "unknown"
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"addr:" + addr.encode(), hashlib.sha256).hexdigest()[:32]


_memory = None


def _fallback():
    """Per-process memory strategy used while the shared store (Redis) is unreachable."""
    global _memory
    if _memory is None:
        from limits.storage import MemoryStorage
        from limits.strategies import MovingWindowRateLimiter
        _memory = MovingWindowRateLimiter(MemoryStorage())
    return _memory


def _strategies():
    shared = getattr(limiter, "limiter", None)
    return [s for s in (shared, _fallback()) if s is not None]


def hit(name: str, limit: str) -> bool:
    """Count one hit of `name` for this client; False when over `limit` (e.g. "10 per hour").

    Uses the shared store; if it fails (Redis down), counts in this process's memory instead,
    so a report is never refused because the limiter's store is away.
    """
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return True
    item = parse(limit)
    key = client_key()
    for strategy in _strategies():
        try:
            return strategy.hit(item, "portal", name, key)
        except Exception:  # noqa: BLE001 - storage unreachable: fall back to memory
            log.warning("rate-limit store unavailable, counting in memory")
            continue
    return True


def retry_after(name: str, limit: str) -> int:
    item = parse(limit)
    key = client_key()
    for strategy in _strategies():
        try:
            reset, _remaining = strategy.get_window_stats(item, "portal", name, key)
            return max(1, int(reset - time.time()))
        except Exception:  # noqa: BLE001
            continue
    return item.get_expiry()


def init_app(app):
    if app.config["TRUSTED_PROXIES"]:
        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    app.config["RATELIMIT_KEY_PREFIX"] = "portal"
    app.config["RATELIMIT_DEFAULT"] = app.config["RATELIMIT_DEFAULT"]
    limiter._key_func = client_key
    limiter.init_app(app)
