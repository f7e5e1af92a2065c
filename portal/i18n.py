"""Languages the portal speaks, each named in itself, with its writing direction."""
from __future__ import annotations

from flask import request, session

from .languages import CODES, LANGUAGES, NAMES  # noqa: F401  (re-exported)
DEFAULT = "fr"
_DIR = {code: d for code, _n, d in LANGUAGES}


def direction(code: str) -> str:
    return _DIR.get(code, "ltr")


def select_locale() -> str:
    """Explicit choice (kept for the visit), then Accept-Language, then French."""
    chosen = request.args.get("lang")
    if chosen in CODES:
        session["lang"] = chosen
        return chosen
    if session.get("lang") in CODES:
        return session["lang"]
    return request.accept_languages.best_match(CODES) or DEFAULT
