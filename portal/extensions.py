"""Flask extensions and the database session, created unbound and attached in create_app."""
from __future__ import annotations

from flask import current_app, g
from flask_babel import Babel
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import create_engine, event
from sqlalchemy.orm import Session, sessionmaker

babel = Babel()
csrf = CSRFProtect()


def make_engine(url: str):
    kwargs = {"future": True}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 15}
    else:
        kwargs.update(pool_pre_ping=True, pool_size=5, max_overflow=5,
                      connect_args={"connect_timeout": 5})
    engine = create_engine(url, **kwargs)
    if url.startswith("sqlite"):
        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=15000")
            cur.close()
    return engine


class Database:
    """One engine per app; one session per application context (closed at teardown)."""

    def init_app(self, app):
        engine = make_engine(app.config["DATABASE_URL"])
        app.extensions["portal_db"] = sessionmaker(bind=engine, expire_on_commit=False)
        app.extensions["portal_engine"] = engine

        @app.teardown_appcontext
        def _close(exc):
            session = g.pop("_db_session", None)
            if session is not None:
                if exc is not None:
                    session.rollback()
                session.close()

    @property
    def engine(self):
        return current_app.extensions["portal_engine"]

    @property
    def session(self) -> Session:
        if "_db_session" not in g:
            g._db_session = current_app.extensions["portal_db"]()
        return g._db_session


db = Database()
