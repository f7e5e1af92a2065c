"""Public information pages: views only, the content lives in the templates (through Babel)."""
from __future__ import annotations

import time

from flask import current_app, redirect, render_template, request, url_for

from ..domain import routing
from ..web import current_profile, profiles
from . import bp

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


DEP_COOKIE = "dep"


def fold(text: str) -> str:
    import unicodedata
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return " ".join(text.replace("-", " ").replace("'", " ").split())


def _find_departements(query: str):
    """Served départements matching a name, a number or a postcode."""
    q = fold(query)
    if not q:
        return []
    found = []
    pc = routing.normalize_postcode(query)
    pc_deps = {c.departement for c in routing.communes_for_postcode(pc)} if pc else set()
    for code, p in profiles().items():
        if q == code.lower() or q in fold(p.name) or code in pc_deps:
            found.append(p)
    return found


def register_root(app):
    """With several départements, / asks which one; with one, / is its home page."""
    if not app.config["MULTI_DEPARTEMENT"]:
        app.add_url_rule("/choisir", "choose_departement", lambda: redirect(url_for("public.home")))
        return

    @app.get("/")
    def choose_departement():
        query = request.args.get("q", "").strip()[:100]
        chosen = request.cookies.get(DEP_COOKIE, "")
        if not query and not request.args.get("change") and chosen in profiles():
            return redirect(url_for("public.home", dep=chosen))
        results = _find_departements(query) if query else None
        if results is not None and len(results) == 1:
            response = redirect(url_for("public.home", dep=results[0].code))
            response.set_cookie(DEP_COOKIE, results[0].code, max_age=180 * 24 * 3600,
                                httponly=True, samesite="Lax", secure=current_app.config["HTTPS"])
            return response
        return render_template("public/choose.html", query=query, results=results,
                               all_profiles=sorted(profiles().values(), key=lambda p: p.code))

    @app.get("/<dep>/choisir")
    def remember_departement(dep):
        dep = dep.upper()
        if dep not in profiles():
            from flask import abort
            abort(404)
        response = redirect(url_for("public.home", dep=dep))
        response.set_cookie(DEP_COOKIE, dep, max_age=180 * 24 * 3600, httponly=True, samesite="Lax",
                            secure=current_app.config["HTTPS"])
        return response


__all__ = ["bp", "current_profile"]
