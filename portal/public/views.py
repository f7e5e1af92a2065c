"""Public information pages: views only, the content lives in the templates (through Babel)."""
from __future__ import annotations

from flask import render_template, request

from ..extensions import cache
from ..web import current_profile, layout_key, line_key
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


def render_cached(template):
    """Information pages are the same for every visitor of a département, language and state of the
    CRIP line: render each once per few minutes (CACHE_DEFAULT_TIMEOUT) instead of on every request."""
    if set(request.args) - {"lang"}:
        return render_template(template)
    key = f"page:{template}:{layout_key()}:{line_key()}"
    body = cache.get(key)
    if body is None:
        body = render_template(template)
        cache.set(key, body)
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
