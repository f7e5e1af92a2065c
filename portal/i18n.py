"""Languages the portal speaks, each named in itself, with its writing direction."""
from __future__ import annotations

from flask import request, session

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
    return request.accept_languages.best_match(CODES) or DEFAULT
