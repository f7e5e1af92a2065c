"""Settings, read from the environment with an embedded default that needs no service.

Every setting can be overridden by an environment variable of the same name. Durations are in
seconds, sizes in bytes. Bad values stop start-up with one line naming the variable.
"""
from __future__ import annotations

import hashlib
import logging
import os
import secrets
from pathlib import Path

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE = ROOT / "instance"


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the message names it."""


def _int(env, name, default, minimum=0):
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def _bool(env, name, default):
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def _list(env, name) -> list[str]:
    return [part.strip() for part in (env.get(name) or "").split(",") if part.strip()]


def _secret_key(env, instance: Path, production: bool) -> str:
    key = env.get("SECRET_KEY", "")
    if key:
        if len(key) < 32:
            raise ConfigError("SECRET_KEY must be at least 32 characters long")
        return key
    if production:
        raise ConfigError(
            "SECRET_KEY is required in production (PORTAL_ENV=production): "
            "set it to a long random value, e.g. python -c 'import secrets; print(secrets.token_hex(32))'"
        )
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    log.warning("SECRET_KEY not set: generated a development key in %s (never use this in production)", path)
    return key


def _crip_secret_key(env, instance: Path, production: bool, public_key: str) -> str:
    """The back office's own secret: it encrypts the staff session cookie and the TOTP secrets,
    keys the recovery codes and (unless AUDIT_KEY is set) the audit log. The public site never
    holds it, so a compromised public host cannot open what the back office holds."""
    key = env.get("CRIP_SECRET_KEY", "")
    if key:
        if len(key) < 32:
            raise ConfigError("CRIP_SECRET_KEY must be at least 32 characters long")
        if key == public_key:
            raise ConfigError("CRIP_SECRET_KEY must differ from SECRET_KEY: the public site must not hold it")
        return key
    if production:
        raise ConfigError(
            "CRIP_SECRET_KEY is required in production when the back office is served (PORTAL_SERVES "
            "includes crip): set it to a long random value different from SECRET_KEY")
    path = instance / "crip_secret_key"
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    log.warning("CRIP_SECRET_KEY not set: generated a development key in %s (never use this in production)", path)
    return key


def _audit_key(env, crip_secret: str | None) -> str | None:
    key = env.get("AUDIT_KEY", "")
    if key:
        if len(key) < 32:
            raise ConfigError("AUDIT_KEY must be at least 32 characters long")
        return key
    if crip_secret is None:
        return None
    return hashlib.blake2b(crip_secret.encode(), digest_size=32, person=b"portal-audit-key").hexdigest()


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def _log_level(env) -> str:
    raw = (env.get("LOG_LEVEL") or "INFO").strip().upper()
    if raw not in LOG_LEVELS:
        raise ConfigError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {env.get('LOG_LEVEL')!r}")
    return raw


def from_env(env=None, overrides: dict | None = None) -> dict:
    """Build the settings from an environment mapping (os.environ by default); `overrides`
    (used by tests and embedding code) win, and settings derived from them follow them."""
    env = os.environ if env is None else env
    overrides = overrides or {}
    production = env.get("PORTAL_ENV", "development") == "production"
    instance = Path(overrides.get("INSTANCE_PATH") or env.get("PORTAL_INSTANCE_PATH") or DEFAULT_INSTANCE)
    for name in ("SECRET_KEY", "CRIP_SECRET_KEY", "AUDIT_KEY"):
        if overrides.get(name):
            env = dict(env, **{name: overrides[name]})
    serves = overrides.get("PORTAL_SERVES") or [
        s.strip() for s in env.get("PORTAL_SERVES", "public,crip").split(",") if s.strip()]
    public_key = _secret_key(env, instance, production)
    crip_secret = _crip_secret_key(env, instance, production, public_key) if "crip" in serves else None
    database_url = env.get("DATABASE_URL") or f"sqlite:///{instance / 'portal.db'}"
    if database_url.startswith("postgres://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgres://"):]
    elif database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://"):]
    if not database_url.startswith(("sqlite:", "postgresql+psycopg:")):
        raise ConfigError(f"DATABASE_URL must be a postgresql:// or sqlite:// URL, got {database_url.split(':', 1)[0]!r}")
    deps = env.get("PORTAL_DEPARTEMENTS", "").strip()
    cfg = {
        "ENV_NAME": "production" if production else "development",
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": public_key,
        "CRIP_SECRET_KEY": crip_secret,
        # Keys every new audit line (HMAC-SHA256, version 2); never in the database.
        "AUDIT_KEY": _audit_key(env, crip_secret),
        "AUDIT_ANCHOR_PATH": env.get("AUDIT_ANCHOR_PATH") or str(instance / "audit-anchors.log"),
        "DATABASE_URL": database_url,
        # PostgreSQL timeouts (seconds; 0 = none): a frozen database costs a request seconds, not a worker.
        "DATABASE_CONNECT_TIMEOUT": _int(env, "DATABASE_CONNECT_TIMEOUT", 3, 0),
        "DATABASE_STATEMENT_TIMEOUT": _int(env, "DATABASE_STATEMENT_TIMEOUT", 5, 0),
        "DATABASE_POOL_TIMEOUT": _int(env, "DATABASE_POOL_TIMEOUT", 5, 1),
        "RATELIMIT_STORAGE_URI": env.get("RATELIMIT_STORAGE_URI") or "memory://",
        "PORTAL_DEPARTEMENTS": [d.strip().upper() for d in deps.split(",") if d.strip()] if deps else [],
        # Where the département profiles are read (<code>.toml); empty: the ones shipped in portal/departements.
        "PORTAL_PROFILE_DIR": env.get("PORTAL_PROFILE_DIR", "").strip(),
        # Which audiences this process serves: "public", "crip" or "public,crip".
        "PORTAL_SERVES": serves,
        "TRUSTED_PROXIES": _int(env, "TRUSTED_PROXIES", 0),
        # Host names this site answers to (Flask 3.1 checks Host / X-Forwarded-Host against them:
        # anything else is a 400). Empty: any host (development only).
        "TRUSTED_HOSTS": _list(env, "TRUSTED_HOSTS") or None,
        "HTTPS": _bool(env, "PORTAL_HTTPS", production),
        "MAX_CONTENT_LENGTH": _int(env, "MAX_CONTENT_LENGTH", 60 * 1024 * 1024, 1024),
        "ATTACHMENT_MAX_FILES": _int(env, "ATTACHMENT_MAX_FILES", 5, 0),
        "ATTACHMENT_MAX_BYTES": _int(env, "ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024, 1024),
        # One file's inspection runs in a child process with at most this memory and time.
        "ATTACHMENT_CHECK_MEMORY_MB": _int(env, "ATTACHMENT_CHECK_MEMORY_MB", 256, 64),
        "ATTACHMENT_CHECK_SECONDS": _int(env, "ATTACHMENT_CHECK_SECONDS", 5, 1),
        "DRAFT_TTL_SECONDS": _int(env, "DRAFT_TTL_SECONDS", 2 * 3600, 60),
        "CONFIRMATION_TTL_SECONDS": _int(env, "CONFIRMATION_TTL_SECONDS", 30 * 60, 60),
        "FORM_MIN_SECONDS": _int(env, "FORM_MIN_SECONDS", 3, 0),
        "PAGE_CACHE": _bool(env, "PAGE_CACHE", True),   # information pages rendered once per few minutes
        "QUICK_EXIT_URL": env.get("QUICK_EXIT_URL", "https://www.meteofrance.com/"),
        "STAFF_IDLE_TIMEOUT": _int(env, "STAFF_IDLE_TIMEOUT", 20 * 60, 60),
        # Rate limits (Flask-Limiter syntax); all overridable.
        "RATELIMIT_DEFAULT": env.get("RATELIMIT_DEFAULT", "600 per minute"),
        "RATELIMIT_SEND": env.get("RATELIMIT_SEND", "10 per hour"),
        "RATELIMIT_FORM_STEP": env.get("RATELIMIT_FORM_STEP", "120 per minute"),
        "RATELIMIT_UPLOAD": env.get("RATELIMIT_UPLOAD", "30 per hour"),
        "RATELIMIT_FOLLOWUP_CHECK": env.get("RATELIMIT_FOLLOWUP_CHECK", "10 per 10 minutes"),
        "RATELIMIT_FOLLOWUP_MESSAGE": env.get("RATELIMIT_FOLLOWUP_MESSAGE", "20 per hour"),
        "RATELIMIT_SIGNIN_ADDRESS": env.get("RATELIMIT_SIGNIN_ADDRESS", "20 per 10 minutes"),
        "RATELIMIT_SIGNIN_ACCOUNT": env.get("RATELIMIT_SIGNIN_ACCOUNT", "10 per 10 minutes"),
        # Sign-in slow-down per account (never a lock-out): free failures, then doubling delays.
        "SIGNIN_FREE_FAILURES": _int(env, "SIGNIN_FREE_FAILURES", 3, 0),
        "SIGNIN_DELAY_BASE_MS": _int(env, "SIGNIN_DELAY_BASE_MS", 250, 0),
        "SIGNIN_DELAY_MAX_MS": _int(env, "SIGNIN_DELAY_MAX_MS", 3000, 0),
        "FOLLOWUP_LOCK_AFTER": _int(env, "FOLLOWUP_LOCK_AFTER", 5, 1),
        "FOLLOWUP_LOCK_SECONDS": _int(env, "FOLLOWUP_LOCK_SECONDS", 15 * 60, 1),
        # Retention, one duration per outcome (portal.domain.retention), in days: the Département sets
        # them, guided by the CNIL's reference framework for child protection; the defaults are placeholders.
        "RETENTION_CLOSED_DAYS": _int(env, "RETENTION_CLOSED_DAYS", 2 * 365, 1),         # no follow-up
        "RETENTION_HELP_DAYS": _int(env, "RETENTION_HELP_DAYS", 2 * 365, 1),             # administrative help
        "RETENTION_JUDICIAL_DAYS": _int(env, "RETENTION_JUDICIAL_DAYS", 2 * 365, 1),     # judicial referral
        "RETENTION_PASSED_ON_DAYS": _int(env, "RETENTION_PASSED_ON_DAYS", 2 * 365, 1),   # transferred or linked
        "RETENTION_UNDECIDED_DAYS": _int(env, "RETENTION_UNDECIDED_DAYS", 3 * 365, 1),   # never decided, from receipt
        "MAIL_SERVER": env.get("MAIL_SERVER", ""),
        "MAIL_PORT": _int(env, "MAIL_PORT", 25, 1),
        "MAIL_FROM": env.get("MAIL_FROM", "no-reply@localhost"),
        "MAIL_USE_TLS": _bool(env, "MAIL_USE_TLS", False),     # STARTTLS before authenticating
        "MAIL_USERNAME": env.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": env.get("MAIL_PASSWORD", ""),
        "RATELIMIT_ENABLED": _bool(env, "RATELIMIT_ENABLED", True),
        "LOG_LEVEL": _log_level(env),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,
        "BABEL_DEFAULT_LOCALE": "fr",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Paris",
    }
    cfg.update(overrides)
    if "crip" not in cfg["PORTAL_SERVES"]:
        # The public site alone never holds the back office's secrets, whatever was passed.
        cfg["CRIP_SECRET_KEY"] = None
        cfg["AUDIT_KEY"] = None
    # Flask-Caching, in each process's memory: what it holds is rendered from the profiles and the
    # catalogs, the same in every worker (see portal/web.py). PAGE_CACHE=false renders everything each time.
    cfg.setdefault("CACHE_TYPE", "SimpleCache" if cfg["PAGE_CACHE"] else "NullCache")
    cfg.setdefault("CACHE_DEFAULT_TIMEOUT", 300)
    cfg.setdefault("CACHE_THRESHOLD", 5000)
    cfg.setdefault("CACHE_NO_NULL_WARNING", True)
    cfg.setdefault("SESSION_COOKIE_SECURE", cfg["HTTPS"])
    if "SESSION_COOKIE_SECURE" not in overrides:
        cfg["SESSION_COOKIE_SECURE"] = cfg["HTTPS"]
    return cfg
