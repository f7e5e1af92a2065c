"""The desk digest of an IP: what the CRIP queue shows of the sealed answers (the commune of the
first child), so that a queue page opens a few small secret boxes (microseconds each) instead of one
sealed box per row (an X25519 operation each, most of the page's cost).

Who can read it: the digest is encrypted and authenticated (SecretBox) with a key derived one-way
from the CRIP private key, as the blind indexes are (domain.blindindex, another label). Only the
CRIP's side, in a request whose staff session holds the private key, can make one or open one. The
public site holds the CRIP's public key only: with the database, Redis and every secret of the public
site, it can neither read a digest nor forge one. Nothing is stored in clear, nothing goes to Redis.

When it is made: the first time the queue shows the IP to someone holding the key (the sealed
answers are opened once, as they were on every view before), then stored beside those answers
(`ip_children.desk_digest`). It names the IP's id and a fingerprint of the sealed blob it was read
from: a digest copied onto another IP, or left behind when the answers are sealed again (a transfer
to another CRIP), or made with another CRIP key, does not open or does not match, and is made again.

No Flask here: the caller writes and commits.
"""
from __future__ import annotations

import hashlib
import json

import nacl.exceptions
import nacl.secret

from . import routing

_KEY_LABEL = b"portal desk digest of an IP, v1"


def derive_key(crip_private_key: bytes) -> bytes:
    """The digest's SecretBox key, derived one-way from the CRIP private key."""
    return hashlib.blake2b(_KEY_LABEL, key=crip_private_key, digest_size=32).digest()


def box(key: bytes) -> nacl.secret.SecretBox:
    """The box of a derived key, to make or read a page of digests with one key set-up."""
    return nacl.secret.SecretBox(key)


def _box(key) -> nacl.secret.SecretBox:
    return key if isinstance(key, nacl.secret.SecretBox) else nacl.secret.SecretBox(key)


def _fingerprint(sealed: bytes) -> str:
    return hashlib.blake2b(sealed, digest_size=16).hexdigest()


def commune_of(child: dict) -> str:
    """The commune the queue shows for a child's answers: the name the sender chose, else the name
    of its INSEE code; "" when none is known."""
    name = child.get("commune_name")
    if not name and child.get("commune"):
        commune = routing.commune_by_insee(child["commune"])
        name = commune.name if commune else ""
    return name or ""


def make(key: bytes | nacl.secret.SecretBox, *, ip_id: int, sealed: bytes, commune: str) -> bytes:
    """The digest of the first child of IP `ip_id` whose sealed answers are `sealed` (`key`: a
    derived key or its box)."""
    data = {"ip": int(ip_id), "of": _fingerprint(sealed), "commune": commune}
    return _box(key).encrypt(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode())


def read(key: bytes | nacl.secret.SecretBox, digest: bytes | None, *, ip_id: int, sealed: bytes) -> str | None:
    """The commune held by `digest` ("" when none is known), or None when there is no digest, it does
    not open with this key, or it was not made from these sealed answers of this IP."""
    if not digest:
        return None
    try:
        data = json.loads(_box(key).decrypt(digest))
    except (nacl.exceptions.CryptoError, ValueError, TypeError):
        return None
    if not isinstance(data, dict) or data.get("ip") != ip_id or data.get("of") != _fingerprint(sealed):
        return None
    commune = data.get("commune")
    return commune if isinstance(commune, str) else None
