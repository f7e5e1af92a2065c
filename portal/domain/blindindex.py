"""Earlier IPs about the same child: blind indexes computed by the CRIP's side only.

When staff open an IP, the server holds the CRIP private key for that request; it derives from it a
key for an HMAC of the child's normalised name and date of birth (`child_index`), and of the family name
and commune (`family_hint`, a weaker hint). Equal indexes mean the same child (or family); the indexes
say nothing without the key, and the public site, which has no private key, can neither compute nor
test them. Names are normalised so that case, accents, hyphens, apostrophes and spaces do not matter;
a commune is read by its name (from its INSEE code when the sender picked one), normalised the same
way, with "Saint"/"Sainte" and "St"/"Ste" read alike."""
from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata

_KEY_LABEL = b"portal blind index of a child, v1"
_SAINT = re.compile(r"\b(sainte|saint|ste|st)\b")


def derive_key(crip_private_key: bytes) -> bytes:
    """The HMAC key, derived one-way from the CRIP private key."""
    return hashlib.blake2b(_KEY_LABEL, key=crip_private_key, digest_size=32).digest()


def normalise(text) -> str:
    text = unicodedata.normalize("NFKD", str(text or "")).casefold()
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("œ", "oe").replace("æ", "ae").replace("ß", "ss")
    return "".join(ch for ch in text if ch.isalnum())


def normalise_commune(name) -> str:
    text = unicodedata.normalize("NFKD", str(name or "")).casefold()
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(r"[^0-9a-z]+", " ", text)
    text = _SAINT.sub(lambda m: "ste" if m.group(1) in ("sainte", "ste") else "st", text)
    return normalise(text)


def _mac(key: bytes, *parts: str) -> str:
    return hmac.new(key, "\x1f".join(parts).encode(), hashlib.sha256).hexdigest()


def child_index(key: bytes, *, first_name, last_name, birth_date) -> str | None:
    """None unless the first name, the family name and the full date of birth are all known."""
    first, last, born = normalise(first_name), normalise(last_name), str(birth_date or "").strip()
    if not (first and last and re.fullmatch(r"\d{4}-\d{2}-\d{2}", born)):
        return None
    return _mac(key, "child", first, last, born)


def family_hint(key: bytes, *, last_name, commune_name) -> str | None:
    last, commune = normalise(last_name), normalise_commune(commune_name)
    if not (last and commune):
        return None
    return _mac(key, "family", last, commune)
