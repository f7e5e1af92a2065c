"""Flask extensions and the database session, created unbound and attached in create_app."""
from __future__ import annotations

import logging
from types import SimpleNamespace

import flask_babel
from flask import current_app, g
from flask_babel import Babel, Domain
from flask_caching import Cache
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import create_engine, event
from sqlalchemy.orm import Session, sessionmaker



class RequestCatalog(Domain):
    """Flask-Babel's message domain, with the catalog looked up once per application context (request)
    instead of on every message: a page translates a hundred labels. Flask-Babel itself keeps the
    locale for the whole context, so the catalog cannot change within it."""

    def get_translations(self):
        try:
            store = g._get_current_object().__dict__   # (not through the proxy on each of ~100 calls)
        except RuntimeError:            # outside an application context
            return super().get_translations()
        translations = store.get("_portal_translations")
        if translations is None:
            translations = store["_portal_translations"] = super().get_translations()
        return translations


def _babel_context():
    """Flask-Babel's `_get_current_context` (the namespace in `g` where it keeps the locale and the
    domain), the same result with one look-up through the `g` proxy instead of three: Flask-Babel calls
    it for every message, and a form page translates about two hundred (labels, options, texts)."""
    try:
        store = g._get_current_object().__dict__
    except RuntimeError:                # outside an application context, like the original
        return None
    ctx = store.get("_flask_babel")
    if ctx is None:
        ctx = store["_flask_babel"] = SimpleNamespace()
    return ctx


flask_babel._get_current_context = _babel_context
babel = Babel()
babel.domain_instance = RequestCatalog()   # replaces the cached_property's default Domain
cache = Cache()    # per process: rendered pages and the parts of the layout that do not depend on the request
csrf = CSRFProtect()
log = logging.getLogger(__name__)

# A database that does not answer (frozen, or a network that drops packets) must cost a request a few
# seconds, not a worker: the server cancels a statement after `statement_timeout`, and the client gives
# up on its own a little later (a frozen server cannot cancel anything).
CLIENT_GRACE_SECONDS = 2.0


def _timed_connection_class(limit: float):
    """A psycopg connection whose every wait for the server (query, commit, rollback, ping) gives up
    after `limit` seconds: the connection is then closed (its state is unknown) and an
    OperationalError raised, which the pool treats as a disconnection."""
    import psycopg
    from psycopg import errors as pg_errors

    wait_timeout = getattr(pg_errors, "_WaitTimeout", None)   # psycopg >= 3.3: Connection.wait(timeout=)
    if wait_timeout is None:
        return None

    class TimedConnection(psycopg.Connection):
        def wait(self, gen, interval=0.1, timeout=None):
            if timeout is not None:
                return super().wait(gen, interval=interval, timeout=timeout)
            try:
                return super().wait(gen, interval=interval, timeout=limit)
            except wait_timeout:
                self.pgconn.finish()
                raise psycopg.OperationalError(
                    f"the database did not answer within {limit:.0f} s: connection closed") from None

    return TimedConnection


def make_engine(url: str, *, connect_timeout: int = 3, statement_timeout: int = 5, pool_timeout: int = 5):
    """The engine of a database URL. On PostgreSQL: connect and statement timeouts (seconds, 0 = none),
    a bounded wait for a pooled connection, and a ping before a pooled connection is reused."""
    kwargs = {"future": True}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 15}
    else:
        connect_args = {"connect_timeout": connect_timeout} if connect_timeout else {}
        if statement_timeout:
            connect_args["options"] = f"-c statement_timeout={int(statement_timeout * 1000)}"
        kwargs.update(pool_pre_ping=True, pool_size=5, max_overflow=5, pool_timeout=pool_timeout or 30,
                      connect_args=connect_args)
    engine = create_engine(url, **kwargs)
    if url.startswith("sqlite"):
        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=15000")
            cur.close()
    elif statement_timeout and (timed := _timed_connection_class(statement_timeout + CLIENT_GRACE_SECONDS)):
        @event.listens_for(engine, "do_connect")
        def _timed_connect(_dialect, _record, cargs, cparams):
            return timed.connect(*cargs, **cparams)
    return engine


def engine_of_config(config) -> object:
    return make_engine(config["DATABASE_URL"], connect_timeout=config.get("DATABASE_CONNECT_TIMEOUT", 3),
                       statement_timeout=config.get("DATABASE_STATEMENT_TIMEOUT", 5),
                       pool_timeout=config.get("DATABASE_POOL_TIMEOUT", 5))


def close_session(session, failed: bool) -> None:
    """End a request's session without ever raising: a database that went away during the request
    must not turn its answer (often a 503 page already rendered) into a bare server error."""
    try:
        if failed:
            session.rollback()
        session.close()
    except Exception as exc:   # the connection died: drop it from the pool, keep the answer
        log.warning("database connection lost at the end of a request: %s", type(exc).__name__)
        try:
            session.invalidate()
        except Exception:
            pass


class Database:
    """One engine per app; one session per application context (closed at teardown)."""

    def init_app(self, app):
        engine = engine_of_config(app.config)
        app.extensions["portal_db"] = sessionmaker(bind=engine, expire_on_commit=False)
        app.extensions["portal_engine"] = engine

        @app.teardown_appcontext
        def _close(exc):
            session = g.pop("_db_session", None)
            if session is not None:
                close_session(session, failed=exc is not None)

    @property
    def engine(self):
        return current_app.extensions["portal_engine"]

    @property
    def session(self) -> Session:
        if "_db_session" not in g:
            g._db_session = current_app.extensions["portal_db"]()
        return g._db_session


db = Database()
