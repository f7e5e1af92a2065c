"""Shared fixtures: an app on a temporary SQLite by default, on PostgreSQL and Redis where reachable.

Under CI=true (see .ci/run) PostgreSQL, Redis and Chromium are required: a test that needs them
fails there instead of skipping.
"""
from __future__ import annotations

import os
import shutil
import socket
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from jinja2 import BytecodeCache
from sqlalchemy import create_engine, event, text

CI = os.environ.get("CI") == "true"
PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
SECRET = "test-secret-key-0123456789abcdef0123456789abcdef"
CRIP_SECRET = "test-crip-secret-key-fedcba9876543210fedcba98765"


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def need_service(name: str, host: str, port: int):
    if _reachable(host, port):
        return
    if CI:
        pytest.fail(f"{name} at {host}:{port} is required under CI=true but is not reachable")
    pytest.skip(f"{name} not reachable at {host}:{port}")


@pytest.fixture(autouse=True, scope="session")
def cheap_kdf():
    """Test-only weakening of the key derivations and the password hasher (as SecureDrop's conftest does):
    production code has no switch for it. Session-wide, so that module-scoped servers (browser tests)
    derive keys with the same cost as the tests that use them."""
    import nacl.pwhash
    from argon2 import PasswordHasher
    from portal.domain import sealing, staff
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sealing, "KDF_OPSLIMIT", nacl.pwhash.argon2id.OPSLIMIT_MIN)
        mp.setattr(sealing, "KDF_MEMLIMIT", nacl.pwhash.argon2id.MEMLIMIT_MIN)
        mp.setattr(staff, "_ph", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
        yield


@pytest.fixture(autouse=True, scope="session")
def _url_builders_compiled_once():
    """Werkzeug compiles a Python function per URL rule and app to build its URLs; the suite makes an
    app per test, each with the same hundred-odd rules: compile each builder once per test process
    (a rule whose defaults fill one of its own variables is compiled as usual)."""
    from werkzeug.routing.rules import Rule
    compile_builder, compiled = Rule._compile_builder, {}

    def once(self, append_unknown=True):
        defaults = self.defaults or {}
        if any(dynamic and name in defaults for dynamic, name in self._trace):
            return compile_builder(self, append_unknown)
        key = (self.rule, tuple(self._trace), tuple(map(str, defaults)), append_unknown)
        if key not in compiled:
            compiled[key] = compile_builder(self, append_unknown)
        return compiled[key]

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Rule, "_compile_builder", once)
        yield


def base_config(tmp_path, **extra):
    cfg = {
        "TESTING": True,
        "SECRET_KEY": SECRET,
        "CRIP_SECRET_KEY": CRIP_SECRET,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'test.db'}",
        "RATELIMIT_STORAGE_URI": "memory://",
        "RATELIMIT_ENABLED": True,
        "WTF_CSRF_ENABLED": False,
        "FORM_MIN_SECONDS": 0,
    }
    cfg.update(extra)
    return cfg


_MIGRATED: dict = {}


@pytest.fixture(scope="session", autouse=True)
def _migrated_sqlite_folder(tmp_path_factory):
    """Where this test process keeps one SQLite database migrated to head (see make_app)."""
    _MIGRATED["folder"] = tmp_path_factory.mktemp("migrated")


def _migrated_sqlite() -> Path | None:
    """An SQLite file at the latest revision, migrated once per test process and copied for each app
    (running every migration for each of hundreds of apps would cost most of the suite's time)."""
    if "file" not in _MIGRATED and "folder" in _MIGRATED:
        from portal import create_app
        from portal.extensions import db
        from portal.migrate import upgrade
        folder = _MIGRATED["folder"]
        template = create_app(base_config(folder, PORTAL_DEPARTEMENTS=["31"]), env={})
        with template.app_context():
            upgrade(db.engine)
        template.extensions["portal_engine"].dispose()   # the last connection checkpoints the WAL into the file
        _MIGRATED["file"] = folder / "test.db"
    return _MIGRATED.get("file")


class _SharedTemplateCache(BytecodeCache):
    """Jinja's compiled templates, kept for every app of this test process: each test makes its own
    app, whose Jinja environment would otherwise parse and compile every template it renders again
    (a third of the request tests' time). A template whose source changes gets another checksum."""

    def __init__(self):
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket):
        code = self.compiled.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket):
        self.compiled[bucket.key] = bucket.bytecode_to_string()


_TEMPLATES = _SharedTemplateCache()


def _no_fsync(dbapi_conn, _record):
    """A test's SQLite database need not survive a power cut: no fsync at each commit (the
    application's own durability setting, PRAGMA synchronous=FULL, is SQLite's default)."""
    dbapi_conn.execute("PRAGMA synchronous=OFF")


def make_app(tmp_path, **extra):
    """The application of a test: settings for tests (`extra` overrides them), a database at the latest
    revision (on SQLite a copy of the migrated template), a CRIP key pair per served département
    (private halves in app.config["TEST_CRIP_KEYS"])."""
    from portal import create_app
    from portal.domain import keys
    from portal.extensions import db
    from portal.migrate import upgrade

    db_file = Path(tmp_path) / "test.db"
    template = None if "DATABASE_URL" in extra or db_file.exists() else _migrated_sqlite()
    if template is not None:
        db_file.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(template, db_file)
    app = create_app(base_config(tmp_path, **extra), env={})
    app.jinja_env.bytecode_cache = _TEMPLATES
    engine = app.extensions["portal_engine"]
    if engine.dialect.name == "sqlite":
        engine.pool.dispose()               # connections opened from now on skip the fsync (see below)
        event.listen(engine, "connect", _no_fsync)
    with app.app_context():
        if template is None:
            upgrade(db.engine)
        app.config["TEST_CRIP_KEYS"] = {}
        for code in app.config["PROFILES"]:
            app.config["TEST_CRIP_KEYS"][code] = keys.create_crip_key(db.session, code)
        db.session.commit()
    return app


# The fixture trio of the Flask tutorial: an app, its test client, its command-line runner. ---------

@pytest.fixture
def settings(request):
    """What this test's `app` sets over the test defaults (base_config): nothing, unless the test (or its
    class or module, as `pytestmark`) is marked `@pytest.mark.settings(NAME=value, ...)`, or parametrises
    `settings` indirectly (`@pytest.mark.parametrize("settings", [{...}, {...}], indirect=True)`)."""
    chosen = {}
    for marker in reversed(list(request.node.iter_markers("settings"))):   # the module's, then the test's
        chosen.update(marker.kwargs)
    chosen.update(getattr(request, "param", {}))
    return chosen


@pytest.fixture
def app(tmp_path, settings):
    app = make_app(tmp_path, **settings)
    yield app
    app.extensions["portal_engine"].dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def clock(monkeypatch):
    """The time the portal's views read (portal.web.now_utc), set by the test: `clock.at(moment)` stops
    it at an aware datetime; `clock.ahead(seconds=61)` runs it that far ahead of the real time."""
    import portal.web

    class Clock:
        moment = None           # a fixed aware datetime, or None for the real time plus `offset`
        offset = timedelta(0)

        def at(self, moment: datetime):
            self.moment = moment

        def ahead(self, **delta):
            self.moment, self.offset = None, timedelta(**delta)

        def now(self, tz=None):
            moment = self.moment if self.moment is not None else datetime.now(timezone.utc) + self.offset
            return moment.astimezone(tz) if tz else moment.astimezone(timezone.utc).replace(tzinfo=None)

    clock = Clock()

    class FrozenDatetime(datetime):
        @classmethod
        def now(cls, tz=None):
            return clock.now(tz)

    monkeypatch.setattr(portal.web, "datetime", FrozenDatetime)
    return clock


@pytest.fixture(scope="session")
def pg_url():
    """A fresh PostgreSQL database for this test session, dropped at the end."""
    need_service("PostgreSQL", "127.0.0.1", 5432)
    name = f"portal_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    yield url
    with admin.connect() as conn:
        conn.execute(text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n AND pid <> pg_backend_pid()"
        ), {"n": name})
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


@pytest.fixture
def pg_app(tmp_path, pg_url):
    app = make_app(tmp_path, DATABASE_URL=pg_url)
    yield app
    from portal.models import Base
    engine = app.extensions["portal_engine"]
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(text(f'DROP TABLE IF EXISTS "{table.name}" CASCADE'))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_app(request, tmp_path):
    """The same test on the embedded SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        yield make_app(tmp_path)
    else:
        yield request.getfixturevalue("pg_app")


@pytest.fixture
def redis_url():
    """An emptied Redis database of this test process's own (pytest -n: database 15, 14, ... one per
    worker), so that a test emptying it never erases what a test of another worker counts there."""
    need_service("Redis", "127.0.0.1", 6379)
    import redis
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    base, db = REDIS_URL.rsplit("/", 1)
    url = f"{base}/{int(db) - worker % 8}"
    r = redis.Redis.from_url(url)
    r.flushdb()
    yield url
    r.flushdb()
