"""Settings from the environment: embedded defaults, rewrites, and one-line errors naming the variable."""
from __future__ import annotations

import stat

import pytest

from portal import config as config_module
from portal.config import ConfigError, from_env
from tests.conftest import SECRET, base_config

LONG_KEY = "k" * 40
CRIP_KEY = "c" * 40


def env_for(tmp_path, **extra):
    env = {"PORTAL_INSTANCE_PATH": str(tmp_path / "instance"), "SECRET_KEY": LONG_KEY, "CRIP_SECRET_KEY": CRIP_KEY}
    env.update(extra)
    return env


# Defaults ----------------------------------------------------------------------------------------

def test_defaults_need_no_service():
    cfg = from_env({"SECRET_KEY": LONG_KEY})
    assert cfg["INSTANCE_PATH"] == str(config_module.DEFAULT_INSTANCE)
    assert cfg["DATABASE_URL"] == f"sqlite:///{config_module.DEFAULT_INSTANCE / 'portal.db'}"
    assert cfg["RATELIMIT_STORAGE_URI"] == "memory://"
    assert cfg["ENV_NAME"] == "development"
    assert cfg["PORTAL_DEPARTEMENTS"] == []
    assert cfg["PORTAL_SERVES"] == ["public", "crip"]
    assert cfg["HTTPS"] is False
    assert cfg["SESSION_COOKIE_SECURE"] is False
    assert cfg["BABEL_DEFAULT_LOCALE"] == "fr"
    assert cfg["BABEL_DEFAULT_TIMEZONE"] == "Europe/Paris"


def test_sqlite_database_lives_in_the_instance_folder(tmp_path):
    cfg = from_env(env_for(tmp_path))
    assert cfg["INSTANCE_PATH"] == str(tmp_path / "instance")
    assert cfg["DATABASE_URL"] == f"sqlite:///{tmp_path / 'instance' / 'portal.db'}"


def test_evaluation_deadlines_are_not_settings_but_the_departement_profile():
    cfg = from_env({"SECRET_KEY": LONG_KEY})
    assert not any(k.startswith("EVALUATION_DAYS") for k in cfg)


def test_integer_settings_are_read_from_the_environment(tmp_path):
    cfg = from_env(env_for(tmp_path, MAIL_PORT="2525", ATTACHMENT_MAX_FILES="0", DRAFT_TTL_SECONDS="600"))
    assert cfg["MAIL_PORT"] == 2525
    assert cfg["ATTACHMENT_MAX_FILES"] == 0
    assert cfg["DRAFT_TTL_SECONDS"] == 600


def test_empty_integer_variable_means_default(tmp_path):
    assert from_env(env_for(tmp_path, MAIL_PORT=""))["MAIL_PORT"] == 25


# DATABASE_URL ------------------------------------------------------------------------------------

@pytest.mark.parametrize("given, expected", [
    ("postgres://u:p@db:5432/portal", "postgresql+psycopg://u:p@db:5432/portal"),
    ("postgresql://u:p@db/portal", "postgresql+psycopg://u:p@db/portal"),
    ("postgresql+psycopg://u@db/portal", "postgresql+psycopg://u@db/portal"),
    ("sqlite:////var/lib/portal/portal.db", "sqlite:////var/lib/portal/portal.db"),
])
def test_database_url_is_normalised_to_psycopg3(tmp_path, given, expected):
    assert from_env(env_for(tmp_path, DATABASE_URL=given))["DATABASE_URL"] == expected


@pytest.mark.parametrize("url", ["mysql://u@db/portal", "postgresql+psycopg2://u@db/portal", "db.example.org"])
def test_unsupported_database_url_is_refused(tmp_path, url):
    with pytest.raises(ConfigError) as exc:
        from_env(env_for(tmp_path, DATABASE_URL=url))
    assert "DATABASE_URL" in str(exc.value)


def test_database_url_error_does_not_echo_the_password(tmp_path):
    with pytest.raises(ConfigError) as exc:
        from_env(env_for(tmp_path, DATABASE_URL="mysql://user:hunter2@db/portal"))
    assert "hunter2" not in str(exc.value)


# Malformed numbers and booleans ----------------------------------------------------------------

@pytest.mark.parametrize("name", ["MAIL_PORT", "TRUSTED_PROXIES", "ATTACHMENT_MAX_BYTES", "DRAFT_TTL_SECONDS",
                                  "STAFF_IDLE_TIMEOUT", "FOLLOWUP_LOCK_AFTER"])
def test_bad_integer_names_the_variable(tmp_path, name):
    with pytest.raises(ConfigError) as exc:
        from_env(env_for(tmp_path, **{name: "ten"}))
    message = str(exc.value)
    assert name in message
    assert "ten" in message
    assert "\n" not in message


def test_integer_below_its_minimum_names_the_variable(tmp_path):
    with pytest.raises(ConfigError) as exc:
        from_env(env_for(tmp_path, ATTACHMENT_MAX_BYTES="10"))
    assert "ATTACHMENT_MAX_BYTES" in str(exc.value)
    assert "1024" in str(exc.value)


def test_negative_integer_refused(tmp_path):
    with pytest.raises(ConfigError, match="TRUSTED_PROXIES"):
        from_env(env_for(tmp_path, TRUSTED_PROXIES="-1"))


@pytest.mark.parametrize("raw, expected", [("1", True), ("true", True), ("YES", True), ("on", True),
                                           ("0", False), ("false", False), ("No", False), ("off", False)])
def test_boolean_https(tmp_path, raw, expected):
    cfg = from_env(env_for(tmp_path, PORTAL_HTTPS=raw))
    assert cfg["HTTPS"] is expected
    assert cfg["SESSION_COOKIE_SECURE"] is expected


def test_bad_boolean_names_the_variable(tmp_path):
    with pytest.raises(ConfigError, match="PORTAL_HTTPS"):
        from_env(env_for(tmp_path, PORTAL_HTTPS="maybe"))


# SECRET_KEY --------------------------------------------------------------------------------------

def test_development_generates_a_secret_key_once_and_reuses_it(tmp_path):
    env = {"PORTAL_INSTANCE_PATH": str(tmp_path / "instance")}
    first = from_env(env)
    key_file = tmp_path / "instance" / "secret_key"
    assert key_file.exists()
    assert len(first["SECRET_KEY"]) >= 32
    assert key_file.read_text().strip() == first["SECRET_KEY"]
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    second = from_env(env)
    assert second["SECRET_KEY"] == first["SECRET_KEY"]


def test_generated_keys_differ_between_instances(tmp_path):
    a = from_env({"PORTAL_INSTANCE_PATH": str(tmp_path / "a")})["SECRET_KEY"]
    b = from_env({"PORTAL_INSTANCE_PATH": str(tmp_path / "b")})["SECRET_KEY"]
    assert a != b


def test_given_secret_key_is_used_and_nothing_is_written(tmp_path):
    cfg = from_env(env_for(tmp_path))
    assert cfg["SECRET_KEY"] == LONG_KEY
    assert not (tmp_path / "instance" / "secret_key").exists()


def test_production_without_secret_key_is_refused_clearly(tmp_path):
    with pytest.raises(ConfigError) as exc:
        from_env({"PORTAL_ENV": "production", "PORTAL_INSTANCE_PATH": str(tmp_path / "instance")})
    message = str(exc.value)
    assert "SECRET_KEY" in message
    assert "production" in message
    assert "\n" not in message
    assert not (tmp_path / "instance" / "secret_key").exists()


def test_production_ignores_a_previously_generated_development_key(tmp_path):
    instance = tmp_path / "instance"
    from_env({"PORTAL_INSTANCE_PATH": str(instance)})
    assert (instance / "secret_key").exists()
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        from_env({"PORTAL_ENV": "production", "PORTAL_INSTANCE_PATH": str(instance)})


def test_production_defaults_to_https(tmp_path):
    cfg = from_env(env_for(tmp_path, PORTAL_ENV="production"))
    assert cfg["ENV_NAME"] == "production"
    assert cfg["HTTPS"] is True
    assert cfg["SESSION_COOKIE_SECURE"] is True


@pytest.mark.parametrize("key", ["short", "x" * 31])
def test_short_secret_key_rejected(tmp_path, key):
    with pytest.raises(ConfigError) as exc:
        from_env(env_for(tmp_path, SECRET_KEY=key))
    assert "SECRET_KEY" in str(exc.value)
    assert key not in str(exc.value)


def test_secret_key_of_32_characters_accepted(tmp_path):
    assert from_env(env_for(tmp_path, SECRET_KEY="x" * 32))["SECRET_KEY"] == "x" * 32


# PORTAL_DEPARTEMENTS and PORTAL_SERVES ---------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    ("", []),
    ("   ", []),
    ("31", ["31"]),
    ("31,39", ["31", "39"]),
    (" 31 , 39 ,, 44 ", ["31", "39", "44"]),
    ("2a,2b", ["2A", "2B"]),
])
def test_portal_departements_parsing(tmp_path, raw, expected):
    assert from_env(env_for(tmp_path, PORTAL_DEPARTEMENTS=raw))["PORTAL_DEPARTEMENTS"] == expected


def test_portal_serves_parsing(tmp_path):
    assert from_env(env_for(tmp_path, PORTAL_SERVES="crip"))["PORTAL_SERVES"] == ["crip"]
    assert from_env(env_for(tmp_path, PORTAL_SERVES=" public , crip "))["PORTAL_SERVES"] == ["public", "crip"]


def test_create_app_reads_portal_departements_from_env(tmp_path):
    from portal import create_app
    env = env_for(tmp_path, PORTAL_DEPARTEMENTS="39", DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}")
    app = create_app(env=env)
    assert list(app.config["PROFILES"]) == ["39"]
    assert app.config["MULTI_DEPARTEMENT"] is False


def test_create_app_bad_env_raises_config_error(tmp_path):
    from portal import ConfigError as Exported, create_app
    assert Exported is ConfigError
    with pytest.raises(ConfigError, match="MAIL_PORT"):
        create_app(env=env_for(tmp_path, MAIL_PORT="x"))


def test_create_app_config_overrides_do_not_touch_the_default_instance(tmp_path, monkeypatch):
    from portal import create_app
    default = tmp_path / "default-instance"
    monkeypatch.setattr(config_module, "DEFAULT_INSTANCE", default)
    create_app(base_config(tmp_path, SECRET_KEY=SECRET), env={})
    assert not default.exists()


# The back office's own secret ----------------------------------------------------------------------

def test_production_back_office_needs_its_own_secret(tmp_path):
    env = env_for(tmp_path, PORTAL_ENV="production")
    del env["CRIP_SECRET_KEY"]
    with pytest.raises(ConfigError, match="CRIP_SECRET_KEY is required in production"):
        from_env(env)
    with pytest.raises(ConfigError, match="must differ from SECRET_KEY"):
        from_env(dict(env, CRIP_SECRET_KEY=LONG_KEY))
    with pytest.raises(ConfigError, match="CRIP_SECRET_KEY must be at least 32"):
        from_env(dict(env, CRIP_SECRET_KEY="short"))


def test_public_site_alone_needs_and_holds_no_back_office_secret(tmp_path):
    env = env_for(tmp_path, PORTAL_ENV="production", PORTAL_SERVES="public")
    del env["CRIP_SECRET_KEY"]
    cfg = from_env(env)
    assert cfg["CRIP_SECRET_KEY"] is None and cfg["AUDIT_KEY"] is None
    # even when given one by mistake, the public site drops it
    cfg = from_env(dict(env, CRIP_SECRET_KEY=CRIP_KEY, AUDIT_KEY="a" * 40))
    assert cfg["CRIP_SECRET_KEY"] is None and cfg["AUDIT_KEY"] is None
    assert CRIP_KEY not in repr(cfg)


def test_development_generates_a_separate_back_office_secret(tmp_path):
    cfg = from_env({"PORTAL_INSTANCE_PATH": str(tmp_path / "instance")})
    assert cfg["CRIP_SECRET_KEY"] and cfg["CRIP_SECRET_KEY"] != cfg["SECRET_KEY"]
    assert stat.S_IMODE((tmp_path / "instance" / "crip_secret_key").stat().st_mode) == 0o600
    assert from_env({"PORTAL_INSTANCE_PATH": str(tmp_path / "instance")})["CRIP_SECRET_KEY"] == cfg["CRIP_SECRET_KEY"]


def test_audit_key_is_a_setting_or_derived_from_the_back_office_secret(tmp_path):
    derived = from_env(env_for(tmp_path))["AUDIT_KEY"]
    assert derived and CRIP_KEY not in derived and LONG_KEY not in derived
    assert from_env(env_for(tmp_path, AUDIT_KEY="a" * 40))["AUDIT_KEY"] == "a" * 40


def test_authenticated_smtp_comes_from_the_environment(tmp_path, monkeypatch):
    cfg = from_env(env_for(tmp_path, MAIL_SERVER="smtp.example.org", MAIL_PORT="587", MAIL_USE_TLS="true",
                           MAIL_USERNAME="crip31", MAIL_PASSWORD="s3cret"))
    assert (cfg["MAIL_USE_TLS"], cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"]) == (True, "crip31", "s3cret")
    defaults = from_env(env_for(tmp_path))
    assert (defaults["MAIL_USE_TLS"], defaults["MAIL_USERNAME"], defaults["MAIL_PASSWORD"]) == (False, "", "")
    # and the outbox command uses them
    from portal.cli import outbox as outbox_cli
    from portal.domain import outbox
    seen = {}
    monkeypatch.setattr(outbox, "smtp_sender", lambda *args, **kwargs: seen.update(args=args, **kwargs))
    from flask import Flask
    app = Flask(__name__)
    app.config.update(cfg)
    with app.app_context():
        _sender, via = outbox_cli._sender()
    assert via == "SMTP smtp.example.org"
    assert seen == {"args": ("smtp.example.org", 587, "no-reply@localhost"), "starttls": True,
                    "username": "crip31", "password": "s3cret"}


def test_log_level(tmp_path):
    assert from_env(env_for(tmp_path))["LOG_LEVEL"] == "INFO"
    assert from_env(env_for(tmp_path, LOG_LEVEL="debug"))["LOG_LEVEL"] == "DEBUG"
    with pytest.raises(ConfigError, match="LOG_LEVEL must be one of"):
        from_env(env_for(tmp_path, LOG_LEVEL="chatty"))


def test_every_setting_the_code_reads_is_documented():
    """Each variable from_env reads has a row in the README's settings table."""
    import re
    from pathlib import Path
    root = Path(__file__).resolve().parent.parent
    source = (root / "portal" / "config.py").read_text()
    names = set(re.findall(r'env(?:\.get\(|, )"([A-Z_]+)"', source))
    readme = (root / "README.md").read_text()
    documented = set(re.findall(r"`([A-Z_]+)\*?`", readme))
    missing = sorted(n for n in names if n not in documented and not any(
        n.startswith(d) for d in documented if readme.count(f"`{d}*`")))
    assert names and not missing, f"settings without a README row: {missing}"


def test_migration_chatter_only_at_debug():
    import logging

    from portal import _configure_logging
    alembic = logging.getLogger("alembic")
    before = alembic.level
    try:
        _configure_logging("INFO")
        assert not alembic.isEnabledFor(logging.INFO) and alembic.isEnabledFor(logging.WARNING)
        _configure_logging("DEBUG")
        assert alembic.isEnabledFor(logging.INFO)
    finally:
        alembic.setLevel(before)
