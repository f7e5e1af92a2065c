"""What every page shares: the current département, security headers, error pages, template globals."""
from __future__ import annotations

import functools
import logging
from datetime import datetime, timezone
from urllib.parse import urlencode

from flask import abort, current_app, g, render_template, request, url_for
from babel.numbers import format_decimal
from flask_babel import get_locale, gettext as _
from jinja2 import pass_context
from markupsafe import Markup, escape
from werkzeug.exceptions import HTTPException, SecurityError
from werkzeug.routing import IntegerConverter

from . import i18n
from .domain import hours
from .extensions import babel

log = logging.getLogger(__name__)

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
       "base-uri 'none'; object-src 'none'")


def profiles():
    return current_app.config["PROFILES"]


def current_profile():
    """The département of this request: from the URL (several served), or the only one."""
    code = g.get("dep_code")
    if code:
        return profiles()[code]
    if not current_app.config["MULTI_DEPARTEMENT"]:
        return next(iter(profiles().values()))
    return None


def pull_departement(endpoint, values):
    """url_value_preprocessor for the audience blueprints: /<dep>/... when several are served."""
    if values and "dep" in values:
        code = str(values.pop("dep")).upper()
        if code not in profiles():
            abort(404)
        g.dep_code = code


def push_departement(endpoint, values):
    if "dep" in values or not g.get("dep_code"):
        return
    if current_app.url_map.is_endpoint_expecting(endpoint, "dep"):
        values["dep"] = g.dep_code


class IdConverter(IntegerConverter):
    """`<id:name>`: a database id, 1 to 2**31-1 (what an INTEGER column holds on SQLite and
    PostgreSQL alike); anything else does not match the route, so it is a 404, never a 500."""
    def __init__(self, map, *args, **kwargs):
        super().__init__(map, min=1, max=MAX_ID)


MAX_ID = 2**31 - 1


def now_utc():
    """The time every view reads (aware, UTC)."""
    return datetime.now(timezone.utc)


def _relative_location(response):
    """Redirects name no host: an absolute Location on this request's own host (Werkzeug's
    trailing-slash redirects build one from the Host header) becomes a path."""
    location = response.headers.get("Location")
    if location and 300 <= response.status_code < 400:
        try:
            host_url = request.host_url   # "http://host/"
        except SecurityError:            # a host outside TRUSTED_HOSTS: no redirect at all
            response.headers.pop("Location")
            return response
        if location.startswith(host_url):
            response.headers["Location"] = "/" + location[len(host_url):]
    return response


SECURITY_HEADERS = (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()"),
)
HSTS = ("Strict-Transport-Security", "max-age=63072000; includeSubDomains")


def _security_headers(response):
    """The headers every answer carries, unless the view set its own. (One pass over the names the
    answer has: Headers.setdefault raises and catches an exception for each header it adds.)"""
    h = response.headers
    present = {name.lower() for name, _value in h.items()}

    def add(name, value):
        if name.lower() not in present:
            h.add(name, value)

    for name, value in SECURITY_HEADERS:
        add(name, value)
    if current_app.config["HTTPS"]:
        add(*HSTS)
    if getattr(g, "no_store", False):
        h["Cache-Control"] = "no-store"
        h["Pragma"] = "no-cache"
    add("Content-Language", str(get_locale() or i18n.DEFAULT))
    return response


def lang_prefix() -> str:
    """The current page's address with its query, ready for `lang=<code>` at the end (computed once
    per request: the language list links to the same page in each language). Built from the matched
    route only, never from the raw path (on an unrouted path such as `/%5Cevil.example/` or
    `//evil.example/` a path-built link would leave the site); without a route (an error page), a
    query-only link, which keeps the browser on the current page."""
    prefix = g.get("_lang_prefix")
    if prefix is None:
        # url_for's own arguments (_external, _scheme, _anchor…) never come from the query string.
        args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang" and not k.startswith("_")]
        path = None
        if request.endpoint and request.method == "GET" and request.url_rule is not None:
            values = dict(request.view_args or {})
            if g.get("dep_code") and current_app.url_map.is_endpoint_expecting(request.endpoint, "dep"):
                values["dep"] = g.dep_code
            try:
                path = url_for(request.endpoint, **values)
            except Exception:   # a route that cannot be rebuilt: the query-only link below
                path = None
        if path is None:
            prefix = "?lang="
        else:
            prefix = f"{path}?{urlencode(args) + '&' if args else ''}lang="
        g._lang_prefix = prefix
    return prefix


def lang_url(code):
    """The current page in another language (see lang_prefix)."""
    return lang_prefix() + code


# The layout -----------------------------------------------------------------------------------------
# What base.html shows around a page depends on the département, the language and, for the emergency
# numbers, whether the CRIP line is open: those parts are rendered once per combination and kept in
# the cache ({% cache %} blocks keyed by layout_key() and line_key()); the rest is per request.

def _layout():
    """(locale, profile, line status) of this request, computed once."""
    state = g.get("_layout")
    if state is None:
        locale = str(get_locale() or i18n.DEFAULT)
        profile = current_profile()
        line = hours.status(profile.crip_phone.hours, now_utc()) if profile and profile.crip_phone else None
        state = g._layout = (locale, profile, line)
    return state


def layout_key() -> str:
    locale, profile, _line = _layout()
    return f"{profile.code if profile else '-'}:{locale}"


def line_key() -> str:
    """The state of the CRIP line as the pages word it (open until …, closed, opens …)."""
    line = _layout()[2]
    if line is None:
        return "-"
    when = line.closes_at or line.opens_at
    return f"{int(line.known)}{int(line.open)}{int(line.always)}:{when.isoformat() if when else ''}"


def _quick_exit_url() -> str:
    if "quick_exit" in current_app.view_functions:
        return url_for("quick_exit")
    return current_app.config["QUICK_EXIT_URL"]


def _draft_hours() -> str:
    return _hours_text(str(get_locale() or i18n.DEFAULT), round(current_app.config["DRAFT_TTL_SECONDS"] / 3600, 1))


@functools.lru_cache(maxsize=64)
def _hours_text(locale: str, value: float) -> str:
    return format_decimal(value, locale=locale)


def _globals():
    locale, profile, line = _layout()
    return {
        "profile": profile,
        "line_status": line,
        "locale": locale,
        "text_dir": i18n.direction(locale),
        "languages": i18n.LANGUAGES,
        "lang_url": lang_url,
        "lang_prefix": lang_prefix,
        "layout_key": layout_key,
        "line_key": line_key,
        "multi_departement": current_app.config["MULTI_DEPARTEMENT"],
        "quick_exit_url": LazyText(_quick_exit_url),
        "serves_public": "public" in current_app.config["PORTAL_SERVES"],
        "catalog_reviewed": catalog_reviewed(locale),
        "draft_hours": LazyText(_draft_hours),
    }


class LazyText:
    """A template value computed only if the template prints it (most pages take it from the cache)."""

    __slots__ = ("_fn",)

    def __init__(self, fn):
        self._fn = fn

    def __str__(self) -> str:
        return str(self._fn())

    def __html__(self) -> str:
        from markupsafe import escape
        return str(escape(self._fn()))


_REVIEW_CACHE: dict = {}


def catalog_reviewed(locale: str) -> bool:
    """Each catalog's header says whether a native speaker reviewed it; the site says so on pages
    in a language whose catalog is not reviewed (French is the reference and shows no notice)."""
    if locale in _REVIEW_CACHE:
        return _REVIEW_CACHE[locale]
    from .paths import TRANSLATIONS
    reviewed = True
    po = TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"
    if po.exists() and locale != i18n.DEFAULT:
        head = po.read_text(encoding="utf-8")[:1000]
        reviewed = "# Reviewed by a native speaker: yes" in head
    _REVIEW_CACHE[locale] = reviewed
    return reviewed


ERROR_STATUSES = (400, 403, 404, 405, 410, 413, 429, 500, 503)


def render_error(status: int, **extra):
    titles = {
        400: _("This request could not be understood"),
        403: _("You are not allowed to see this page"),
        404: _("Page not found"),
        405: _("This action is not possible here"),
        410: _("This page has expired"),
        413: _("What you sent is too large"),
        429: _("Too many attempts"),
        500: _("Something went wrong on our side"),
        503: _("The service is temporarily unavailable"),
    }
    if "crip" in current_app.blueprints and (request.path == "/crip" or request.path.startswith("/crip/")):
        g.back_office = True     # the back office's own error page: no public header, footer or quick exit
        return render_template("crip/error.html", status=status, title=titles.get(status, titles[500]), **extra), status
    return render_template("error.html", status=status, title=titles.get(status, titles[500]), **extra), status


def field_attrs(field, attrs: dict) -> dict:
    """HTML attributes of a form control: no empty ones, errors and hints linked for screen readers."""
    out = {k: v for k, v in attrs.items() if v not in (None, "")}
    described = []
    if field.description:
        described.append(f"{field.id}-hint")
    if field.errors:
        described.append(f"{field.id}-error")
        out["aria-invalid"] = "true"
    if described:
        out["aria-describedby"] = " ".join(described)
    out["required"] = False   # server-side validation only: the browser must not block a send
    return out


def _form_with_errors(value) -> bool:
    from wtforms import Form
    return isinstance(value, Form) and (bool(value.form_errors) or any(field.errors for field in value))


@pass_context
def page_has_errors(context) -> bool:
    """Whether a page comes back with something to correct: both layouts then start its <title>
    with "Error: ". The view's own `has_errors` when it gives one (the IP form's steps); otherwise
    a message about what went wrong (`error`), a refusal (`limited`, `failed`) or any form of the
    page (alone, or in a tuple or list) holding errors."""
    values = context.get_all()
    if "has_errors" in values:
        return bool(values["has_errors"])
    if values.get("error") or values.get("limited") or values.get("failed"):
        return True
    return any(_form_with_errors(v) or (isinstance(v, (tuple, list)) and any(_form_with_errors(x) for x in v))
               for v in values.values())


# Parts of every form control, in Python rather than as Jinja macros (a page has dozens of them; a macro
# call costs several times more). Same markup as the macros they replaced in macros/forms.html.

def _template_text(message: str) -> Markup:
    """What `{{ _(message) }}` prints in a template: the translation, as markup."""
    return Markup(_translations().ugettext(message)) % {}


def field_label_text(field, optional) -> Markup:
    text = escape(field.label.text)
    if optional:
        text += Markup(' <span class="optional">(%s)</span>') % _template_text("optional")
    return text


def field_hint_and_error(field) -> Markup:
    out = Markup()
    if field.description:
        out += Markup('<p class="hint" id="%s-hint">%s</p>') % (field.id, field.description)
    out += Markup("\n")
    if field.errors:
        out += Markup('<p class="error-message" id="%s-error"><span class="visually-hidden">%s</span> %s</p>') % (
            field.id, _template_text("Error:"), field.errors[0])
    return out


def field_described(field) -> Markup:
    """The ids of a control's hint and error, for aria-describedby."""
    ids = ([f"{field.id}-hint"] if field.description else []) + ([f"{field.id}-error"] if field.errors else [])
    return escape(" ".join(ids))


def choice_options(field) -> list[tuple]:
    """(id, value, label, checked) of each option of a radio or checkbox group: what iterating the
    field gives, without building a WTForms field for each option."""
    return [(f"{field.id}-{i}", choice.value, choice.label or choice.value, choice.selected)
            for i, choice in enumerate(field.iter_choices())]


def list_messages(field) -> list[str]:
    """The messages of a FieldList itself (its entries' errors are lists or dicts)."""
    return [str(e) for e in field.errors if not isinstance(e, (list, dict, tuple))]


def _translations():
    """This request's catalog (see extensions.RequestCatalog)."""
    return babel.domain_instance.get_translations()


def _install_gettext(app):
    """Templates call gettext dozens of times per page: give them the request's catalog directly."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
    )


def init_app(app):
    _install_gettext(app)
    app.jinja_env.globals["_attrs"] = field_attrs
    app.jinja_env.globals["list_messages"] = list_messages
    app.jinja_env.globals.update(field_label_text=field_label_text, field_hint_and_error=field_hint_and_error,
                                 field_described=field_described, choice_options=choice_options)
    app.jinja_env.globals["page_has_errors"] = page_has_errors
    from .forms import html
    app.jinja_env.globals.update(question_html=html.question_html, wrapped_html=html.wrapped_html,
                                 error_summary_html=html.error_summary_html, checkbox_html=html.checkbox_html,
                                 shown_when_html=html.shown_when_html, block_html=html.block_html)
    app.url_map.converters["id"] = IdConverter
    app.after_request(_security_headers)
    app.after_request(_relative_location)
    app.context_processor(_globals)
    app.jinja_env.globals["now_utc"] = now_utc
    from . import formatting
    formatting.register(app)

    logging.getLogger("flask-limiter").setLevel(logging.WARNING)   # no log line per refused request

    light_pages: dict = {}

    @app.errorhandler(429)
    def _too_many(exc):
        """A refusal must cost far less than a page: a small page without the site's layout,
        rendered once per language and département (the back office shows its own page)."""
        if "crip" in app.blueprints and request.path.startswith("/crip/"):
            return render_error(429)
        locale = str(get_locale() or i18n.DEFAULT)
        profile = current_profile()
        key = (locale, profile.code if profile else None)
        body = light_pages.get(key)
        if body is None:
            phone = profile.crip_phone if profile and profile.crip_phone and profile.crip_phone.number != "119" else None
            body = app.jinja_env.get_template("error_light.html").render(
                title=_("Too many attempts"), locale=locale, text_dir=i18n.direction(locale), phone=phone,
                cell=profile.ip_cell if profile else "")
            light_pages[key] = body
        limit = getattr(getattr(exc, "limit", None), "limit", None)
        retry = limit.get_expiry() if limit is not None else (getattr(exc, "retry_after", None) or 60)
        return body, 429, {"Retry-After": str(retry)}

    @app.errorhandler(HTTPException)
    def _http_error(exc):
        if isinstance(exc, SecurityError):
            # A Host outside TRUSTED_HOSTS: no page of the site (its links would name that host).
            return "Bad Request: unknown host.\n", 400, {"Content-Type": "text/plain; charset=utf-8"}
        status = exc.code or 500
        if status not in ERROR_STATUSES:
            status = 400 if 400 <= status < 500 else 500
        return render_error(status)

    @app.errorhandler(Exception)
    def _unexpected(exc):
        from sqlalchemy.exc import OperationalError, DBAPIError
        if isinstance(exc, (OperationalError, DBAPIError)):
            log.error("database unavailable: %s", type(exc).__name__)
            from .outage import render_unavailable
            return render_unavailable(render_error)
        log.exception("unexpected error on %s %s", request.method, request.url_rule)
        return render_error(500)

    @app.get("/healthz")
    def healthz():
        from sqlalchemy import text
        from .extensions import db
        try:
            db.session.execute(text("SELECT 1"))
        except Exception:
            return {"status": "database unavailable"}, 503
        return {"status": "ok"}

    @app.get("/sortie")
    def quick_exit():
        """Quick exit: clear what the site stored in this browser, then leave for a neutral site."""
        from flask import redirect
        response = redirect(app.config["QUICK_EXIT_URL"], code=303)
        response.headers["Clear-Site-Data"] = '"cache", "cookies", "storage"'
        response.headers["Cache-Control"] = "no-store"
        return response

    from .ratelimit import limiter_of
    limiter = limiter_of(app)
    limiter.exempt(healthz)
    limiter.exempt(quick_exit)   # leaving must never be refused

    @app.get("/theme/<code>.css")
    def theme(code):
        profile = app.config["PROFILES"].get(code.upper())
        if profile is None:
            abort(404)
        css = f":root{{--accent:{profile.accent_color};}}\n"
        resp = app.response_class(css, mimetype="text/css")
        resp.headers["Cache-Control"] = "public, max-age=3600"
        return resp

    limiter.exempt(theme)
