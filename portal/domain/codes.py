"""References and follow-up codes.

- A reference ("IP-7KQ2-M9XD") is random: it tells nothing about how many IPs exist.
- A follow-up code is 20 characters of Crockford base32 (100 bits), shown in five groups of four
  for reading aloud; it is stored only as a keyed hash (HMAC-SHA256 with a server secret).
  Typing is forgiving: case, spaces, dashes, and the look-alikes O/0, I/L/1 are folded.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"   # Crockford: no I, L, O, U
CODE_LENGTH = 20
CODE_BITS = CODE_LENGTH * 5
REFERENCE_LENGTH = 8
_FOLD = str.maketrans({"O": "0", "I": "1", "L": "1", "U": "V"})


def _random(n: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(n))


def new_reference() -> str:
    raw = _random(REFERENCE_LENGTH)
    return f"IP-{raw[:4]}-{raw[4:]}"


def normalize_reference(text: str) -> str | None:
    raw = "".join(ch for ch in (text or "").upper() if ch.isalnum())
    if len(raw) == REFERENCE_LENGTH + 2 and raw[:2] in ("IP", "1P", "LP"):   # the "IP-" prefix, maybe mistyped
        raw = raw[2:]
    raw = raw.translate(_FOLD)
    if len(raw) != REFERENCE_LENGTH or any(ch not in ALPHABET for ch in raw):
        return None
    return f"IP-{raw[:4]}-{raw[4:]}"


def new_followup_code() -> str:
    return _random(CODE_LENGTH)


def group(code: str, size: int = 4) -> str:
    return " ".join(code[i:i + size] for i in range(0, len(code), size))


def normalize_code(text: str) -> str | None:
    raw = "".join(ch for ch in (text or "").upper().translate(_FOLD) if ch.isalnum())
    if len(raw) != CODE_LENGTH or any(ch not in ALPHABET for ch in raw):
        return None
    return raw


def code_hash(secret_key: str | bytes, code: str) -> str:
    key = secret_key.encode() if isinstance(secret_key, str) else secret_key
    return hmac.new(key, b"followup:" + code.encode(), hashlib.sha256).hexdigest()
