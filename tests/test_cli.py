"""Command line: flask --app portal init-db | seed-demo | crip-keys init."""
from __future__ import annotations

import re
import stat

import pytest
from nacl.public import PrivateKey
from sqlalchemy import func, select

from portal import create_app
from portal.domain import keys
from portal.extensions import db
from portal.models import CripKey
from tests.conftest import base_config


UNREACHABLE = "postgresql+psycopg://nobody@127.0.0.1:1/x"


def bare_app(tmp_path, **extra):
    """An app whose database has not been created yet (no migration, no key)."""
    cfg = base_config(tmp_path, **extra)
    env = {"SECRET_KEY": cfg["SECRET_KEY"], "PORTAL_INSTANCE_PATH": cfg["INSTANCE_PATH"]}
    return create_app(cfg, env=env)


def run(app, *args):
    # The `flask` command pushes an application context for every command (FlaskGroup); the test
    # runner invokes app.cli directly, so push one here as `flask` would (see the xfail below).
    with app.app_context():
        return app.test_cli_runner().invoke(args=list(args))


def key_rows(app, code):
    with app.app_context():
        return db.session.scalars(select(CripKey).where(CripKey.departement == code).order_by(CripKey.id)).all()


def assert_one_line_error(result, start):
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith(start), lines[0]
    return lines[0]


# init-db ---------------------------------------------------------------------------------------

def test_init_db_creates_the_schema_and_is_idempotent(tmp_path):
    app = bare_app(tmp_path, PORTAL_DEPARTEMENTS=["31"])
    first = run(app, "init-db")
    assert first.exit_code == 0, first.output
    assert "latest schema" in first.output
    second = run(app, "init-db")
    assert second.exit_code == 0, second.output
    with app.app_context():
        from sqlalchemy import text
        version = db.session.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        assert len(version) == 1
        assert db.session.scalar(select(func.count()).select_from(CripKey)) == 0


def test_init_db_on_an_unreachable_database(tmp_path):
    app = bare_app(tmp_path, DATABASE_URL=UNREACHABLE)
    result = run(app, "init-db")
    line = assert_one_line_error(result, "Error: cannot reach the database")
    assert "DATABASE_URL" in line


@pytest.mark.parametrize("args", [["seed-demo"], ["crip-keys", "init", "31"]])
def test_other_commands_on_an_unreachable_database(tmp_path, args):
    app = bare_app(tmp_path, DATABASE_URL=UNREACHABLE)
    assert_one_line_error(run(app, *args), "Error: cannot reach the database")


# seed-demo -------------------------------------------------------------------------------------

def test_seed_demo_is_idempotent(tmp_path):
    app = bare_app(tmp_path, PORTAL_DEPARTEMENTS=["31"])
    first = run(app, "seed-demo")
    assert first.exit_code == 0, first.output
    assert "New CRIP keys: 31" in first.output
    key_file = tmp_path / "instance" / "crip-31.key"
    private = bytes.fromhex(key_file.read_text())
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    rows = key_rows(app, "31")
    assert len(rows) == 1
    assert bytes(PrivateKey(private).public_key) == rows[0].public_key

    second = run(app, "seed-demo")
    assert second.exit_code == 0, second.output
    assert "New CRIP keys: none" in second.output
    assert len(key_rows(app, "31")) == 1
    assert key_file.read_text() == private.hex()      # not overwritten


def test_seed_demo_keeps_existing_keys(app):
    before = {code: key_rows(app, code)[0].public_key for code in app.config["PROFILES"]}
    result = run(app, "seed-demo")
    assert result.exit_code == 0, result.output
    assert "New CRIP keys: none" in result.output
    for code, public in before.items():
        rows = key_rows(app, code)
        assert len(rows) == 1 and rows[0].public_key == public


# crip-keys init ---------------------------------------------------------------------------------

def test_crip_keys_init_refuses_to_replace_an_active_key(app):
    result = run(app, "crip-keys", "init", "31")
    line = assert_one_line_error(result, "Error:")
    assert "31" in line and "--force" in line
    assert len(key_rows(app, "31")) == 1


def test_crip_keys_init_force_rotates(app):
    old = key_rows(app, "31")[0]
    result = run(app, "crip-keys", "init", "31", "--force")
    assert result.exit_code == 0, result.output
    hexes = re.findall(r"^[0-9a-f]{64}$", result.output, re.M)
    assert len(hexes) == 1
    private = bytes.fromhex(hexes[0])
    rows = key_rows(app, "31")
    assert len(rows) == 2
    assert [r.active for r in rows] == [False, True]
    assert rows[0].public_key == old.public_key
    assert bytes(PrivateKey(private).public_key) == rows[1].public_key
    with app.app_context():
        assert keys.active_key(db.session, "31").id == rows[1].id


def test_crip_keys_init_on_a_fresh_database(tmp_path):
    app = bare_app(tmp_path, PORTAL_DEPARTEMENTS=["31"])
    result = run(app, "crip-keys", "init", "31")
    assert result.exit_code == 0, result.output
    assert re.search(r"^[0-9a-f]{64}$", result.output, re.M)


def test_crip_keys_init_to_a_file(tmp_path):
    app = bare_app(tmp_path, PORTAL_DEPARTEMENTS=["39"])
    out = tmp_path / "crip-39.key"
    result = run(app, "crip-keys", "init", "39", "--out", str(out))
    assert result.exit_code == 0, result.output
    private_hex = out.read_text()
    assert re.fullmatch(r"[0-9a-f]{64}", private_hex)
    assert private_hex not in result.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    rows = key_rows(app, "39")
    assert bytes(PrivateKey(bytes.fromhex(private_hex)).public_key) == rows[0].public_key


def test_crip_keys_init_unknown_departement(app):
    result = run(app, "crip-keys", "init", "99")
    line = assert_one_line_error(result, "Error:")
    assert "'99'" in line
    for code in app.config["PROFILES"]:
        assert code in line.split("served:", 1)[1]
    assert key_rows(app, "99") == []


def test_crip_keys_init_departement_not_served_here(tmp_path):
    app = bare_app(tmp_path, PORTAL_DEPARTEMENTS=["31"])
    line = assert_one_line_error(run(app, "crip-keys", "init", "39"), "Error:")
    assert "served: 31" in line


def test_crip_keys_init_under_the_plain_test_runner(tmp_path):
    app = bare_app(tmp_path, PORTAL_DEPARTEMENTS=["31"])
    result = app.test_cli_runner().invoke(args=["crip-keys", "init", "31"])
    assert result.exit_code == 0, result.exception
    assert re.search(r"^[0-9a-f]{64}$", result.output, re.M)


@pytest.mark.settings(PORTAL_DEPARTEMENTS=["31"])
def test_purge_drafts_deletes_only_expired_ones(app, runner):
    from datetime import datetime, timedelta, timezone
    from portal.extensions import db as _db
    from portal.models import Draft
    old = datetime.now(timezone.utc) - timedelta(hours=5)
    with app.app_context():
        for i, when in enumerate((old, datetime.now(timezone.utc))):
            _db.session.add(Draft(id=f"d{i}", departement="31", ciphertext=b"x", submission_token=f"t{i}",
                                  created_at=when, updated_at=when))
        _db.session.commit()
    result = runner.invoke(args=["purge-drafts"])
    assert result.exit_code == 0 and "1 expired draft" in result.output
    with app.app_context():
        assert [d.id for d in _db.session.query(Draft)] == ["d1"]


@pytest.mark.parametrize("env, expected", [
    ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL must be a postgresql:// or sqlite:// URL"),
    ({"PORTAL_DEPARTEMENTS": "99"}, "no profile for département '99'"),
    ({"ATTACHMENT_MAX_FILES": "abc"}, "ATTACHMENT_MAX_FILES must be a whole number"),
    ({"PORTAL_ENV": "production", "SECRET_KEY": ""}, "SECRET_KEY is required in production"),
])
def test_bad_settings_stop_the_command_line_with_one_line(tmp_path, env, expected):
    import os
    import subprocess
    import sys
    full = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PORTAL_DEPARTEMENTS", "SECRET_KEY")}
    full.update(env, PORTAL_INSTANCE_PATH=str(tmp_path))
    r = subprocess.run([sys.executable, "-m", "flask", "--app", "portal", "init-db"], env=full,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert expected in r.stderr and "Traceback" not in r.stderr
    assert len([line for line in r.stderr.splitlines() if line.startswith("Error:")]) == 1
