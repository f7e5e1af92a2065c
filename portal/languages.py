"""The languages the portal speaks, each named in itself, with its writing direction (no Flask here)."""
from __future__ import annotations

# code, name in itself, direction. French first: it is the default.
LANGUAGES = (
    ("fr", "Français", "ltr"),
    ("en", "English", "ltr"),
    ("ar", "العربية", "rtl"),
    ("es", "Español", "ltr"),
    ("pt", "Português", "ltr"),
    ("uk", "Українська", "ltr"),
    ("tr", "Türkçe", "ltr"),
    ("ro", "Română", "ltr"),
    ("fa", "دری / فارسی", "rtl"),
    ("ps", "پښتو", "rtl"),
)
CODES = tuple(code for code, _n, _d in LANGUAGES)
NAMES = {code: n for code, n, _d in LANGUAGES}
