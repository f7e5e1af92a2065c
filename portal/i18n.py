"""Languages the portal speaks, each named in itself, with its writing direction."""
from __future__ import annotations

import functools

from flask import request, session
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

from .languages import CODES, LANGUAGES, NAMES  # noqa: F401  (re-exported)
DEFAULT = "fr"
_DIR = {code: d for code, _n, d in LANGUAGES}


def direction(code: str) -> str:
    return _DIR.get(code, "ltr")


# Areas with their own rule (path prefix -> function returning a code), e.g. the back office, where
# staff choose their language once in their account.
AREA_SELECTORS: dict = {}


def select_locale() -> str:
    """An area's own rule if the path is in one; else the explicit choice (kept for the visit),
    then Accept-Language, then French."""
    for prefix, selector in AREA_SELECTORS.items():
        if request.path == prefix or request.path.startswith(prefix + "/"):
            return selector()
    chosen = request.args.get("lang")
    if chosen in CODES:
        session["lang"] = chosen
        return chosen
    if session.get("lang") in CODES:
        return session["lang"]
    return _best_match(request.headers.get("Accept-Language", ""))


@functools.lru_cache(maxsize=512)
def _best_match(accept_language: str) -> str:
    """The language of an Accept-Language header (browsers send few distinct ones: parsed once each)."""
    return parse_accept_header(accept_language, LanguageAccept).best_match(CODES) or DEFAULT
