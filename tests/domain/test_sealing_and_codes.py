"""Encryption at rest (portal.domain.sealing), references and follow-up codes, CRIP key rotation."""
from __future__ import annotations

import math
import re

import pytest
from nacl.public import PrivateKey

from portal.domain import codes, sealing
from portal.domain.sealing import SealError

SALT = b"\x01" * sealing.KDF_SALT_BYTES
OTHER_SALT = b"\x02" * sealing.KDF_SALT_BYTES


# Sealed boxes ------------------------------------------------------------------------------------

def test_keypair_shape():
    sk, pk = sealing.generate_keypair()
    assert len(sk) == 32 and len(pk) == 32
    assert sealing.generate_keypair() != (sk, pk)


def test_seal_open_roundtrip():
    sk, pk = sealing.generate_keypair()
    data = "Léa, 4 ans, pleure la nuit".encode()
    sealed = sealing.seal_bytes(pk, data)
    assert data not in sealed
    assert sealing.open_bytes(sk, sealed) == data


def test_sealing_is_randomised():
    _sk, pk = sealing.generate_keypair()
    assert sealing.seal_bytes(pk, b"same") != sealing.seal_bytes(pk, b"same")


def test_seal_json_roundtrip():
    sk, pk = sealing.generate_keypair()
    obj = {"name": "Zoé", "ages": [3, None], "note": "« verbatim »"}
    assert sealing.open_json(sk, sealing.seal_json(pk, obj)) == obj


def test_wrong_private_key_raises_seal_error():
    _sk, pk = sealing.generate_keypair()
    other_sk, _ = sealing.generate_keypair()
    with pytest.raises(SealError):
        sealing.open_bytes(other_sk, sealing.seal_bytes(pk, b"secret"))


@pytest.mark.parametrize("where", [0, 40, -1])
def test_tampered_sealed_data_raises(where):
    sk, pk = sealing.generate_keypair()
    sealed = bytearray(sealing.seal_bytes(pk, b"secret message"))
    sealed[where] ^= 0x01
    with pytest.raises(SealError):
        sealing.open_bytes(sk, bytes(sealed))


@pytest.mark.parametrize("garbage", [b"", b"short", b"\x00" * 47])
def test_truncated_sealed_data_raises(garbage):
    sk, _pk = sealing.generate_keypair()
    with pytest.raises(SealError):
        sealing.open_bytes(sk, garbage)


def test_seal_error_is_a_value_error():
    assert issubclass(SealError, ValueError)


# Symmetric encryption (drafts) -------------------------------------------------------------------

def test_encrypt_decrypt_roundtrip():
    key = sealing.new_secret_key()
    assert len(key) == 32
    box = sealing.encrypt(key, b"draft")
    assert b"draft" not in box
    assert sealing.decrypt(key, box) == b"draft"
    assert sealing.decrypt_json(key, sealing.encrypt_json(key, {"step": 2})) == {"step": 2}


def test_decrypt_with_wrong_key_raises():
    box = sealing.encrypt(sealing.new_secret_key(), b"draft")
    with pytest.raises(SealError):
        sealing.decrypt(sealing.new_secret_key(), box)


def test_decrypt_tampered_raises():
    key = sealing.new_secret_key()
    box = bytearray(sealing.encrypt(key, b"draft"))
    box[-3] ^= 0xFF
    with pytest.raises(SealError):
        sealing.decrypt(key, bytes(box))
    with pytest.raises(SealError):
        sealing.decrypt(key, bytes(box[:10]))


def test_key_encoding_roundtrip():
    key = sealing.new_secret_key()
    text = sealing.encode_key(key)
    assert "=" not in text and re.fullmatch(r"[A-Za-z0-9_-]+", text)
    assert sealing.decode_key(text) == key


@pytest.mark.parametrize("text", ["", "abc", "!!!!", sealing.encode_key(b"x" * 16)])
def test_malformed_key_raises(text):
    with pytest.raises(SealError):
        sealing.decode_key(text)


# Keys derived from a follow-up code ---------------------------------------------------------------

def test_derive_keypair_is_deterministic():
    a = sealing.derive_keypair("ABCD1234EFGH5678JKMN", SALT)
    b = sealing.derive_keypair("ABCD1234EFGH5678JKMN", SALT)
    assert a == b
    assert len(a[0]) == 32 and len(a[1]) == 32


def test_derive_keypair_differs_by_code_and_salt():
    a = sealing.derive_keypair("ABCD1234EFGH5678JKMN", SALT)
    assert sealing.derive_keypair("ABCD1234EFGH5678JKMP", SALT) != a
    assert sealing.derive_keypair("ABCD1234EFGH5678JKMN", OTHER_SALT) != a


def test_derived_keypair_opens_what_was_sealed_to_it():
    sk, pk = sealing.derive_keypair("ABCD1234EFGH5678JKMN", SALT)
    sealed = sealing.seal_bytes(pk, b"reply from the CRIP")
    sk_again, _ = sealing.derive_keypair("ABCD1234EFGH5678JKMN", SALT)
    assert sealing.open_bytes(sk_again, sealed) == b"reply from the CRIP"
    wrong, _ = sealing.derive_keypair("ABCD1234EFGH5678JKMP", SALT)
    with pytest.raises(SealError):
        sealing.open_bytes(wrong, sealed)


def test_wrap_unwrap_key():
    sk, _pk = sealing.generate_keypair()
    wrapped = sealing.wrap_key("correct horse battery", SALT, sk)
    assert sk not in wrapped
    assert sealing.unwrap_key("correct horse battery", SALT, wrapped) == sk


def test_unwrap_with_wrong_password_or_salt_raises():
    sk, _pk = sealing.generate_keypair()
    wrapped = sealing.wrap_key("correct horse battery", SALT, sk)
    with pytest.raises(SealError):
        sealing.unwrap_key("wrong horse battery", SALT, wrapped)
    with pytest.raises(SealError):
        sealing.unwrap_key("correct horse battery", OTHER_SALT, wrapped)


# Follow-up codes ----------------------------------------------------------------------------------

def test_alphabet_is_crockford():
    assert len(codes.ALPHABET) == 32 == len(set(codes.ALPHABET))
    for ch in "ILOU":
        assert ch not in codes.ALPHABET


def test_followup_code_length_and_entropy():
    assert codes.CODE_LENGTH == 20
    assert codes.CODE_BITS >= 80
    assert codes.CODE_BITS == codes.CODE_LENGTH * math.log2(len(codes.ALPHABET))
    code = codes.new_followup_code()
    assert len(code) == 20
    assert set(code) <= set(codes.ALPHABET)


def test_followup_codes_are_random():
    many = [codes.new_followup_code() for _ in range(500)]
    assert len(set(many)) == 500
    seen = set("".join(many))
    assert seen == set(codes.ALPHABET)      # 10 000 draws cover all 32 symbols


def test_group_in_five_groups_of_four():
    code = codes.new_followup_code()
    grouped = codes.group(code)
    parts = grouped.split(" ")
    assert len(parts) == 5
    assert all(len(p) == 4 for p in parts)
    assert "".join(parts) == code


def test_normalize_code_roundtrip():
    code = codes.new_followup_code()
    assert codes.normalize_code(code) == code
    assert codes.normalize_code(codes.group(code)) == code


@pytest.mark.parametrize("typed", [
    "abcd 0123 efgh 4567 jkmn",
    "ABCD-0123-EFGH-4567-JKMN",
    " abcd-0123 efgh4567  jkmn ",
    "ABCDO123EFGH4567JKMN",      # O for 0
    "abcdo123efgh4567jkmn",
])
def test_normalize_code_is_forgiving(typed):
    assert codes.normalize_code(typed) == "ABCD0123EFGH4567JKMN"


def test_normalize_code_folds_i_and_l_to_one():
    assert codes.normalize_code("ABCD I23L EFGH 4567 JKMN") == "ABCD1231EFGH4567JKMN"
    assert codes.normalize_code("abcd i23l efgh 4567 jkmn") == "ABCD1231EFGH4567JKMN"


@pytest.mark.parametrize("typed", [
    "", None, "ABCD0123EFGH4567JKM", "ABCD0123EFGH4567JKMNP", "ABCD 0123", "ABCD0123EFGH4567JKM*",
    "ABCD0123EFGH4567JKMÉ",
])
def test_normalize_code_rejects_wrong_length_or_symbols(typed):
    assert codes.normalize_code(typed) is None


def test_code_hash_depends_on_key_and_code():
    code = "ABCD0123EFGH4567JKMN"
    h = codes.code_hash("key-one", code)
    assert re.fullmatch(r"[0-9a-f]{64}", h)
    assert codes.code_hash("key-one", code) == h
    assert codes.code_hash(b"key-one", code) == h
    assert codes.code_hash("key-two", code) != h
    assert codes.code_hash("key-one", "ABCD0123EFGH4567JKMP") != h
    assert code not in h


# References ---------------------------------------------------------------------------------------

def test_reference_format_and_randomness():
    refs = [codes.new_reference() for _ in range(300)]
    for ref in refs:
        assert re.fullmatch(r"IP-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}", ref), ref
        assert codes.normalize_reference(ref) == ref
    assert len(set(refs)) == 300


@pytest.mark.parametrize("typed", ["ip 7kq2 m9xd", "IP-7KQ2-M9XD", "ip7kq2m9xd", "7kq2-m9xd", " IP 7KQ2M9XD ", "1p-7kq2-m9xd"])
def test_normalize_reference_accepts(typed):
    assert codes.normalize_reference(typed) == "IP-7KQ2-M9XD"


def test_normalize_reference_folds_look_alikes():
    assert codes.normalize_reference("ip-7kqo-m9xl") == "IP-7KQ0-M9X1"


@pytest.mark.parametrize("typed", ["", None, "IP-7KQ2-M9X", "IP-7KQ2-M9XD1", "IP-7KQ2-M9X*", "hello"])
def test_normalize_reference_rejects(typed):
    assert codes.normalize_reference(typed) is None


# CRIP keys ----------------------------------------------------------------------------------------

def test_create_crip_key_deactivates_the_previous_key(app):
    from sqlalchemy import select
    from portal.domain import keys
    from portal.extensions import db
    from portal.models import CripKey
    with app.app_context():
        first = keys.active_key(db.session, "31")
        assert first is not None
        old_id, old_public = first.id, first.public_key
        private = keys.create_crip_key(db.session, "31")
        db.session.commit()
        assert len(private) == 32
        rows = db.session.scalars(select(CripKey).where(CripKey.departement == "31")).all()
        assert len(rows) == 2
        assert [r.active for r in rows if r.id == old_id] == [False]
        new = keys.active_key(db.session, "31")
        assert new.id != old_id
        assert new.public_key != old_public
        # Only the public half is stored, and it matches the private key handed back.
        sealed = sealing.seal_bytes(new.public_key, b"ip")
        assert sealing.open_bytes(private, sealed) == b"ip"
        assert all(private != r.public_key for r in rows)
        # Other départements keep their own active key.
        other = keys.active_key(db.session, "39")
        assert other is not None and other.active


def test_crip_keys_from_the_fixture_match_the_database(app):
    from portal.domain import keys
    from portal.extensions import db
    with app.app_context():
        for code, private in app.config["TEST_CRIP_KEYS"].items():
            row = keys.active_key(db.session, code)
            assert sealing.open_bytes(private, sealing.seal_bytes(row.public_key, b"x")) == b"x"


def test_active_key_none_for_unknown_departement(app):
    from portal.domain import keys
    from portal.extensions import db
    with app.app_context():
        assert keys.active_key(db.session, "75") is None


# Follow-up KDF: keyed BLAKE2b for new follow-ups, argon2id still understood ----------------------

def test_followup_kdf_is_fast_blake2b_by_default():
    code = "ABCD1234EFGH5678JKMN"
    assert sealing.FOLLOWUP_KDF == sealing.FOLLOWUP_KDF_BLAKE2B
    assert sealing.derive_keypair(code, SALT) == sealing.derive_keypair(code, SALT, sealing.FOLLOWUP_KDF_BLAKE2B)
    import time
    start = time.perf_counter()
    for _ in range(200):
        sealing.derive_keypair(code, SALT)
    assert (time.perf_counter() - start) / 200 < 0.005     # microseconds, not argon2id's ~70 ms


def test_followup_kdfs_give_different_keys_and_old_ones_still_derive():
    code = "ABCD1234EFGH5678JKMN"
    fast = sealing.derive_keypair(code, SALT, sealing.FOLLOWUP_KDF_BLAKE2B)
    old = sealing.derive_keypair(code, SALT, sealing.FOLLOWUP_KDF_ARGON2ID)
    assert fast != old
    seed = sealing._kdf(code, SALT)                       # exactly what follow-ups before 0005 used
    assert old == (seed, bytes(PrivateKey(seed).public_key))
    with pytest.raises(ValueError):
        sealing.derive_keypair(code, SALT, "md5")
