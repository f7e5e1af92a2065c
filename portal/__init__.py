"""The portal: a département's child-protection site and its online intake of informations préoccupantes.

Table of contents
  config.py          settings from the environment (embedded default: SQLite, memory limiter)
  extensions.py      Babel, CSRF, Limiter, the database session
  models.py          tables; migrations/ holds the Alembic history
  departements/      one TOML profile per département, validated at start-up
  domain/            plain rules, no Flask: routing, priority & deadlines (Paris dates, calendar months,
                     public holidays), sealing, codes, hours, intake, transfer between CRIPs, retention
  public/            blueprint: information pages, département choice, quick exit
  report/            blueprint: the IP form, confirmation and follow-up
  crip/              blueprint: the CRIP back office (can be served apart)
  forms/             Flask-WTF form classes
  web.py             what every page shares: headers, errors, template globals, URL of the département
  cli/               flask --app portal init-db | seed-demo | crip … (one module per command group)
"""
from __future__ import annotations

import logging

from flask import Flask, request

from . import config as config_module
from .departements import ProfileError, load_profiles

__all__ = ["create_app", "ConfigError", "ProfileError"]
ConfigError = config_module.ConfigError


def _no_address(record: logging.LogRecord) -> bool:
    """The development server logs the client address first: never keep a raw IP address."""
    if isinstance(record.msg, str) and " - - [" in record.msg:
        record.msg = "- - -" + record.msg[record.msg.index(" - - [") + 4:]
    return True


def create_app(config: dict | None = None, env=None) -> Flask:
    """Build the app. `config` overrides settings read from the environment (tests use it).

    Called bare (by `flask --app portal …`, wsgi.py or gunicorn), a bad setting or profile stops
    start-up with one clear line on stderr and exit status 2, not a traceback."""
    if config is None and env is None:
        try:
            return _create_app(None, None)
        except (ConfigError, ProfileError) as exc:
            import sys
            print(f"Error: {exc}", file=sys.stderr)
            raise SystemExit(2) from None
    return _create_app(config, env)


def _require_catalogs(directory) -> None:
    """Refuse to serve without the compiled catalogs: the site would speak English to everyone, silently."""
    from .i18n import CODES
    missing = [code for code in CODES if not (directory / code / "LC_MESSAGES" / "messages.mo").is_file()]
    if missing:
        raise ConfigError(
            f"the translation catalogs are not compiled (no messages.mo for {', '.join(missing)} in {directory}); "
            "in a checkout run `pybabel compile -d portal/translations`, or install the wheel built by "
            "`pip wheel --no-deps .`, which compiles them")


def _configure_logging(level: str) -> None:
    """LOG_LEVEL for the portal's own lines; Alembic's plugin and migration chatter only at DEBUG."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("werkzeug").addFilter(_no_address)
    logging.getLogger("alembic").setLevel(logging.DEBUG if level == "DEBUG" else logging.WARNING)


def _create_app(config, env) -> Flask:
    settings = config_module.from_env(env, config)
    app = Flask(__name__, instance_path=settings["INSTANCE_PATH"], instance_relative_config=False)
    app.config.update(settings)
    _configure_logging(app.config["LOG_LEVEL"])

    profile_dir = app.config.get("PORTAL_PROFILE_DIR") or None
    app.config["PROFILES"] = load_profiles(app.config["PORTAL_DEPARTEMENTS"],
                                           *([profile_dir] if profile_dir else []),
                                           production=app.config["ENV_NAME"] == "production")
    app.config["MULTI_DEPARTEMENT"] = len(app.config["PROFILES"]) > 1

    from .extensions import babel, cache, csrf, db
    from .i18n import select_locale
    from .paths import TRANSLATIONS
    from . import ratelimit, web
    from .sessions import SessionInterface

    _require_catalogs(TRANSLATIONS)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS)
    app.session_interface = SessionInterface()   # the back office installs its own (crip.auth)
    db.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    cache.init_app(app)
    csrf.init_app(app)
    ratelimit.init_app(app)

    @app.before_request
    def _refuse_oversized():
        """Refuse an oversized body from its declared length, before reading it."""
        from flask import abort, request
        limit = app.config["MAX_CONTENT_LENGTH"]
        if request.content_length is not None and request.content_length > limit:
            abort(413)
    web.init_app(app)

    serves = app.config["PORTAL_SERVES"]
    if "public" in serves:
        from .public import bp as public_bp
        from .report import bp as report_bp
        prefix = "/<dep>" if app.config["MULTI_DEPARTEMENT"] else ""
        app.register_blueprint(public_bp, url_prefix=prefix or None)
        app.register_blueprint(report_bp, url_prefix=f"{prefix}/signaler")
        # The form has its own limits, which keep what was typed; the generic ceiling would not.
        ratelimit.limiter_of(app).exempt(report_bp)
        ratelimit.limiter_of(app).request_filter(lambda: request.blueprint == report_bp.name)   # decided first
        ratelimit.count_reads_in_memory(app, public_bp.name)   # information pages: why in its docstring
        from .public.views import register_root
        register_root(app)
    if "crip" in serves:
        from .crip import bp as crip_bp
        app.register_blueprint(crip_bp, url_prefix="/crip")
        from .crip.auth import signed_in
        # A signed-in staff member's page reads: in each worker's memory too (why: crip.auth.signed_in).
        ratelimit.count_reads_in_memory(app, crip_bp.name, when=signed_in)

    from .cli import register
    register(app)
    return app
