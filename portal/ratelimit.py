"""Rate limiting (Flask-Limiter): keyed on a keyed hash of the address, never the raw address."""
from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import threading
import time

from limits import parse, parse_many

from flask import current_app, make_response, request
from werkzeug.exceptions import TooManyRequests
from werkzeug.middleware.proxy_fix import ProxyFix

from flask_limiter import Limiter

log = logging.getLogger(__name__)


def client_key() -> str:
    """A keyed hash of the client address: rotates with SECRET_KEY, reveals no address."""
    addr = request.remote_addr or "unknown"
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"addr:" + addr.encode(), hashlib.sha256).hexdigest()[:32]


BREAKER_SECONDS = 5.0


def _state():
    """Per app: the in-memory fallback strategy, the shared one, and when the shared store last failed."""
    state = current_app.extensions.get("portal_limit_state")
    if state is None:
        from limits.storage import MemoryStorage
        from limits.strategies import MovingWindowRateLimiter
        state = {"memory": MovingWindowRateLimiter(MemoryStorage()), "down_until": 0.0, "shared": None}
        current_app.extensions["portal_limit_state"] = state
    return state


def _fallback():
    """Per-process memory strategy used while the shared store (Redis) is unreachable."""
    return _state()["memory"]


def limiter_of(app) -> Limiter:
    """Each app has its own Limiter (its own default limits and storage)."""
    return app.extensions["portal_limiter"]


def _shared():
    """The portal's own strategy over the limiter's shared storage (Redis): never Flask-Limiter's
    in-memory fallback, so that the portal's breaker alone decides when Redis is used again."""
    state = _state()
    if state["shared"] is None:
        from limits.strategies import STRATEGIES
        limiter = limiter_of(current_app)
        strategy = STRATEGIES.get(current_app.config.get("RATELIMIT_STRATEGY", "fixed-window"), STRATEGIES["fixed-window"])
        state["shared"] = strategy(limiter.storage)
    return state["shared"]


def _strategies():
    """The shared store first, unless it failed in the last few seconds (a short circuit breaker,
    so that a dead Redis costs one bounded timeout every few seconds, not one per request)."""
    if time.monotonic() >= _state()["down_until"]:
        return [_shared(), _fallback()]
    return [_fallback()]


def _mark_down(strategy):
    if strategy is not _fallback():
        _state()["down_until"] = time.monotonic() + BREAKER_SECONDS


def _mark_up():
    """The shared store answered: Flask-Limiter's generic limits leave their memory fallback too."""
    limiter = limiter_of(current_app)
    if getattr(limiter, "_storage_dead", False):
        limiter._storage_dead = False
        log.info("rate-limit store back: counting in it again")


def _probe_shared_store():
    """Before Flask-Limiter counts a page: while it counts in memory, ask the shared store again once
    the breaker allows it (every few seconds), so the generic limits return to Redis with the form's."""
    limiter = limiter_of(current_app)
    if not getattr(limiter, "_storage_dead", False) or time.monotonic() < _state()["down_until"]:
        return
    try:
        alive = limiter.storage.check()
    except Exception:
        alive = False
    if alive:
        _mark_up()
    else:
        _state()["down_until"] = time.monotonic() + BREAKER_SECONDS


def keyed(value: str) -> str:
    """A keyed hash for limits counted on something other than the address (an account)."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"key:" + value.encode(), hashlib.sha256).hexdigest()[:32]


def hit(name: str, limit: str, key: str | None = None) -> bool:
    """Count one hit of `name` for this client; False when over `limit` (e.g. "10 per hour").

    Uses the shared store; if it fails (Redis down), counts in this process's memory instead,
    so a report is never refused because the limiter's store is away.
    """
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return True
    item = parse(limit)
    key = key or client_key()
    for strategy in _strategies():
        try:
            allowed = strategy.hit(item, "portal", name, key)
        except Exception:
            log.warning("rate-limit store unavailable, counting in memory")
            _mark_down(strategy)
            continue
        if strategy is not _fallback():
            _mark_up()
        return allowed
    return True


def count(name: str, limit: str, key: str | None = None) -> int:
    """How many hits of `name` the current window of `limit` holds for this key (0 when unknown)."""
    item = parse(limit)
    key = key or client_key()
    for strategy in _strategies():
        try:
            _reset, remaining = strategy.get_window_stats(item, "portal", name, key)
            return max(0, item.amount - remaining)
        except Exception:
            _mark_down(strategy)
            continue
    return 0


def retry_after(name: str, limit: str, key: str | None = None) -> int:
    item = parse(limit)
    key = key or client_key()
    for strategy in _strategies():
        try:
            reset, _remaining = strategy.get_window_stats(item, "portal", name, key)
            return max(1, int(reset - time.time()))
        except Exception:
            _mark_down(strategy)
            continue
    return item.get_expiry()


def refuse(body, name: str, limit: str, key: str | None = None):
    """The answer to a request over its limit: `body` (the page, with what was typed kept, or a
    (body, status) pair) with status 429 and a Retry-After saying when this limit lets the client in."""
    response = make_response(body)
    response.status_code = 429
    response.headers["Retry-After"] = str(retry_after(name, limit, key))
    return response


class LocalCeiling:
    """Fixed windows counted in this process's memory, for the generic ceiling of information pages
    (limits' MemoryStorage would start a timer thread every few milliseconds under load)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._windows: dict = {}     # limit -> (current window number, {client key: hits})

    def hit(self, item, key: str, now: float) -> int | None:
        """Count one hit; None when allowed, else the seconds until the window ends."""
        expiry = item.get_expiry()
        window = int(now // expiry)
        with self._lock:
            current = self._windows.get(str(item))
            if current is None or current[0] != window:      # a new window forgets the last one
                current = self._windows[str(item)] = (window, {})
            count = current[1][key] = current[1].get(key, 0) + 1
        if count <= item.amount:
            return None
        return max(1, int((window + 1) * expiry - now))


@functools.lru_cache(maxsize=16)
def _parsed(limits: str) -> tuple:
    return tuple(parse_many(limits))


def count_reads_in_memory(app, blueprint_name: str, when=None) -> None:
    """The generic ceiling of reading a blueprint of public information pages (GET, HEAD), counted in
    each process's memory instead of in the shared store (Redis); with `when`, only the reads for which
    `when()` is true (the back office: a signed-in staff member's, see portal.crip.auth.signed_in).

    Why: rate limits guard every write and every guessable secret (the form's steps, sending, uploads,
    the follow-up code, signing in), and those stay counted in the shared store. Reading a page of
    public information is neither: each is rendered once per few minutes and then served from the
    cache, and a Redis round trip on every read would cost more than the page itself. Each worker
    still refuses a client over RATELIMIT_DEFAULT, cheaply (the light 429 page)."""
    limiter, ceiling = limiter_of(app), LocalCeiling()

    def is_read() -> bool:
        return (request.blueprint == blueprint_name and request.method in ("GET", "HEAD")
                and (when is None or when()))

    limiter.request_filter(is_read)     # Flask-Limiter (the shared store) skips these requests...

    @app.before_request
    def _read_ceiling():                 # ...and they are counted here
        if not is_read() or not app.config.get("RATELIMIT_ENABLED", True):
            return
        key, now = client_key(), time.time()
        for item in _parsed(app.config["RATELIMIT_DEFAULT"]):
            wait = ceiling.hit(item, key, now)
            if wait is not None:
                raise TooManyRequests(retry_after=wait)


def init_app(app):
    if app.config["TRUSTED_PROXIES"]:
        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)
    # X-RateLimit-* headers would cost two more store round trips on every page; a refusal
    # still says when to come back (Retry-After, set in the 429 handler).
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", False)
    app.config["RATELIMIT_KEY_PREFIX"] = "portal"
    # A dead Redis must not hold a request: short timeouts, then per-process memory.
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    if app.config["RATELIMIT_STORAGE_URI"].startswith(("redis://", "rediss://")):
        app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", {
            "socket_connect_timeout": 0.25, "socket_timeout": 0.25, "health_check_interval": 30})
    limiter = Limiter(key_func=client_key)
    app.before_request(_probe_shared_store)   # registered first: runs before the limiter's own check
    limiter.init_app(app)
    app.extensions["portal_limiter"] = limiter

    @app.after_request
    def _retry_after(response):
        if response.status_code == 429 and "Retry-After" not in response.headers:
            response.headers["Retry-After"] = "60"
        return response
