"""The desk digest: what the queue shows of an IP's sealed answers, opened only with a key derived
from the CRIP private key; bound to its IP and to the sealed answers it was read from."""
import hashlib

from portal.domain import desk_digest, sealing


def test_opens_only_with_the_crip_private_key():
    private, public = sealing.generate_keypair()
    sealed = sealing.seal_json(public, {"commune_name": "Saint-Gaudens"})
    digest = desk_digest.make(desk_digest.derive_key(private), ip_id=7, sealed=sealed, commune="Saint-Gaudens")
    assert b"Gaudens" not in digest
    assert desk_digest.read(desk_digest.derive_key(private), digest, ip_id=7, sealed=sealed) == "Saint-Gaudens"
    # What the public site holds (the public key, its own secrets) opens nothing.
    for guess in (public, desk_digest.derive_key(public), hashlib.blake2b(b"SECRET_KEY", digest_size=32).digest()):
        assert desk_digest.read(guess, digest, ip_id=7, sealed=sealed) is None
    # Another CRIP's key neither.
    other, _ = sealing.generate_keypair()
    assert desk_digest.read(desk_digest.derive_key(other), digest, ip_id=7, sealed=sealed) is None


def test_bound_to_its_ip_and_its_sealed_answers():
    private, public = sealing.generate_keypair()
    key = desk_digest.derive_key(private)
    sealed = sealing.seal_json(public, {"commune_name": "Muret"})
    digest = desk_digest.make(key, ip_id=1, sealed=sealed, commune="Muret")
    assert desk_digest.read(key, digest, ip_id=2, sealed=sealed) is None                 # copied onto another IP
    resealed = sealing.seal_json(public, {"commune_name": "Muret"})
    assert desk_digest.read(key, digest, ip_id=1, sealed=resealed) is None               # answers sealed again
    assert desk_digest.read(key, digest[:-1] + bytes([digest[-1] ^ 1]), ip_id=1, sealed=sealed) is None
    assert desk_digest.read(key, None, ip_id=1, sealed=sealed) is None


def test_commune_of_a_child():
    assert desk_digest.commune_of({"commune_name": "Toulouse", "commune": "31555"}) == "Toulouse"
    assert desk_digest.commune_of({"commune": "31555"}) == "Toulouse"
    assert desk_digest.commune_of({"postcode": "31000"}) == ""
