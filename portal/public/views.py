"""Public information pages: views only, the content lives in the templates (through Babel)."""
from __future__ import annotations

import time

from flask import current_app, render_template, request

from ..web import current_profile
from . import bp
from .legal import legal_context

bp.context_processor(legal_context)

PAGES = {
    # endpoint: (path, template)
    "protection": ("/protection-de-l-enfance", "public/protection.html"),
    "allo119": ("/le-119", "public/allo119.html"),
    "what_is_ip": ("/information-preoccupante", "public/what_is_ip.html"),
    "after": ("/apres-une-information-preoccupante", "public/after.html"),
    "contacts": ("/contacts", "public/contacts.html"),
    "accessibility": ("/accessibilite", "public/accessibility.html"),
    "privacy": ("/donnees-personnelles", "public/privacy.html"),
    "legal": ("/mentions-legales", "public/legal.html"),
    "safety": ("/naviguer-en-securite", "public/safety.html"),
}


CACHE_SECONDS = 300


def render_cached(template):
    """Information pages are the same for every visitor of a département, language and state of the
    CRIP line: render each once per few minutes instead of on every request."""
    if set(request.args) - {"lang"} or not current_app.config.get("PAGE_CACHE", True):
        return render_template(template)
    from flask_babel import get_locale
    from ..domain import hours
    from ..web import now_utc
    profile = current_profile()
    line = hours.status(profile.crip_phone.hours, now_utc()) if profile and profile.crip_phone else None
    key = (template, profile.code if profile else None, str(get_locale()), line)
    cache = current_app.extensions.setdefault("portal_page_cache", {})
    now = time.monotonic()
    hit = cache.get(key)
    if hit and hit[0] > now:
        return hit[1]
    body = render_template(template)
    if len(cache) > 2000:
        cache.clear()
    cache[key] = (now + CACHE_SECONDS, body)
    return body


@bp.get("/")
def home():
    return render_cached("public/home.html")


def _page(template):
    def view():
        return render_cached(template)
    return view


for _endpoint, (_path, _template) in PAGES.items():
    bp.add_url_rule(_path, _endpoint, _page(_template), methods=["GET"])


from .chooser import register_root  # noqa: E402  (called by the app factory)


__all__ = ["bp", "current_profile", "register_root"]
