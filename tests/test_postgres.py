"""The same app on PostgreSQL: migrations to head, health check, CRIP keys (needs 127.0.0.1:5432)."""
from __future__ import annotations

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select, text

from portal.extensions import db
from portal.migrate import MIGRATIONS, alembic_config, upgrade
from portal.models import Base, CripKey

pytestmark = pytest.mark.postgres


def head_revision():
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def test_migrations_run_to_head(pg_app):
    engine = pg_app.extensions["portal_engine"]
    assert engine.dialect.name == "postgresql"
    assert engine.url.drivername == "postgresql+psycopg"
    with engine.connect() as conn:
        versions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    assert versions == [head_revision()]
    assert (MIGRATIONS / "versions").is_dir()
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables


def test_migrating_again_is_a_no_op(pg_app):
    engine = pg_app.extensions["portal_engine"]
    upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1


def test_healthz(pg_app):
    r = pg_app.test_client().get("/healthz")
    assert r.status_code == 200
    assert r.get_json() == {"status": "ok"}


def test_crip_key_rows(pg_app):
    from nacl.public import PrivateKey
    with pg_app.app_context():
        for code, private in pg_app.config["TEST_CRIP_KEYS"].items():
            rows = db.session.scalars(select(CripKey).where(CripKey.departement == code)).all()
            assert len(rows) == 1
            assert rows[0].active is True
            assert bytes(rows[0].public_key) == bytes(PrivateKey(private).public_key)
            assert rows[0].created_at.tzinfo is not None


def test_home_page_on_postgres(pg_app):
    r = pg_app.test_client().get("/31/")
    assert r.status_code == 200
    assert "0 800 31 08 08" in r.get_data(as_text=True)
