"""Encryption at rest (libsodium through PyNaCl).

- A CRIP has a key pair. The public site holds only the public half and *seals* what a person
  typed to it (sealed boxes: anonymous sender, only the private key opens them). So a copy of
  the public site's database, or the site itself, cannot read back any report.
- A draft in progress is encrypted with a random symmetric key that lives only in the sender's
  browser (a cookie); the database holds the ciphertext. Without the cookie it is noise.
- A follow-up code derives a key pair: only its public half is stored, so the CRIP's replies can be
  sealed to whoever holds the code, and to nobody else. The code is a 100-bit random secret, not a
  password: a fast keyed hash (BLAKE2b keyed with the per-IP salt) is as strong as a slow one against
  guessing, and costs microseconds instead of 64 MiB and ~70 ms. Follow-ups created before the change
  keep the argon2id derivation they were made with (the record says which).
"""
from __future__ import annotations

import base64
import hashlib
import json

import nacl.exceptions
import nacl.pwhash
import nacl.secret
import nacl.utils
from nacl.public import PrivateKey, PublicKey, SealedBox


class SealError(ValueError):
    """A ciphertext could not be opened (wrong key, tampered or truncated data)."""


def generate_keypair() -> tuple[bytes, bytes]:
    """Return (private_key, public_key) as raw 32-byte strings."""
    sk = PrivateKey.generate()
    return bytes(sk), bytes(sk.public_key)


def seal_bytes(public_key: bytes, data: bytes) -> bytes:
    return SealedBox(PublicKey(public_key)).encrypt(data)


def open_bytes(private_key: bytes, sealed: bytes) -> bytes:
    try:
        return SealedBox(PrivateKey(private_key)).decrypt(sealed)
    except (nacl.exceptions.CryptoError, ValueError, TypeError) as exc:
        raise SealError("cannot open sealed data") from exc


def seal_json(public_key: bytes, obj) -> bytes:
    return seal_bytes(public_key, json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode())


def open_json(private_key: bytes, sealed: bytes):
    return json.loads(open_bytes(private_key, sealed))


# Symmetric (drafts) ---------------------------------------------------------------------------

def new_secret_key() -> bytes:
    return nacl.utils.random(nacl.secret.SecretBox.KEY_SIZE)


def encode_key(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode().rstrip("=")


def decode_key(text: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:
        raise SealError("malformed key") from exc
    if len(key) != nacl.secret.SecretBox.KEY_SIZE:
        raise SealError("malformed key")
    return key


def encrypt(key: bytes, data: bytes) -> bytes:
    return nacl.secret.SecretBox(key).encrypt(data)


def decrypt(key: bytes, data: bytes) -> bytes:
    try:
        return nacl.secret.SecretBox(key).decrypt(data)
    except (nacl.exceptions.CryptoError, ValueError, TypeError) as exc:
        raise SealError("cannot decrypt") from exc


def encrypt_json(key: bytes, obj) -> bytes:
    return encrypt(key, json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode())


def decrypt_json(key: bytes, data: bytes):
    return json.loads(decrypt(key, data))


# Keys derived from a secret the person holds -----------------------------------------------------

KDF_SALT_BYTES = nacl.pwhash.argon2id.SALTBYTES


# argon2id cost; tests lower it through a fixture (tests/conftest.py), never through a parameter.
KDF_OPSLIMIT = nacl.pwhash.argon2id.OPSLIMIT_INTERACTIVE
KDF_MEMLIMIT = nacl.pwhash.argon2id.MEMLIMIT_INTERACTIVE


def _kdf(secret: str, salt: bytes) -> bytes:
    return nacl.pwhash.argon2id.kdf(32, secret.encode(), salt, opslimit=KDF_OPSLIMIT, memlimit=KDF_MEMLIMIT)


# How a follow-up key pair was derived; stored per follow-up record (followups.kdf).
FOLLOWUP_KDF_ARGON2ID = "argon2id"      # before revision 0005: slow, memory-hard (meant for passwords)
FOLLOWUP_KDF_BLAKE2B = "blake2b"        # keyed BLAKE2b: right for a high-entropy random code
FOLLOWUP_KDF = FOLLOWUP_KDF_BLAKE2B     # what new follow-ups use
FOLLOWUP_KDFS = (FOLLOWUP_KDF_ARGON2ID, FOLLOWUP_KDF_BLAKE2B)
_FOLLOWUP_PERSON = b"portal-followup1"  # domain separation (BLAKE2b personalisation, 16 bytes)


def _blake2b_seed(secret: str, salt: bytes) -> bytes:
    if len(salt) < 16:
        raise ValueError("salt too short")
    return hashlib.blake2b(secret.encode(), digest_size=32, key=salt, person=_FOLLOWUP_PERSON).digest()


def derive_keypair(secret: str, salt: bytes, kdf: str = FOLLOWUP_KDF) -> tuple[bytes, bytes]:
    """Derive a key pair from a follow-up code, with the KDF its record names."""
    if kdf == FOLLOWUP_KDF_BLAKE2B:
        seed = _blake2b_seed(secret, salt)
    elif kdf == FOLLOWUP_KDF_ARGON2ID:
        seed = _kdf(secret, salt)
    else:
        raise ValueError(f"unknown follow-up KDF {kdf!r}")
    sk = PrivateKey(seed)
    return bytes(sk), bytes(sk.public_key)


def wrap_key(password: str, salt: bytes, private_key: bytes) -> bytes:
    """Encrypt a private key with a key derived from a password (argon2id + SecretBox)."""
    kek = _kdf(password, salt)
    return encrypt(kek, private_key)


def unwrap_key(password: str, salt: bytes, wrapped: bytes) -> bytes:
    kek = _kdf(password, salt)
    return decrypt(kek, wrapped)
