"""The blind index of a child: stable across spellings, keyed by the CRIP private key only."""
from portal.domain import blindindex as bi


def test_same_child_whatever_the_spelling():
    key = bi.derive_key(b"k" * 32)
    a = bi.child_index(key, first_name="Zoé", last_name="Le Gall-Durand", birth_date="2019-03-12")
    b = bi.child_index(key, first_name="ZOE", last_name="legall durand", birth_date="2019-03-12")
    assert a == b and len(a) == 64
    assert a != bi.child_index(key, first_name="Zoé", last_name="Le Gall-Durand", birth_date="2019-03-13")
    assert bi.child_index(key, first_name="Zoé", last_name="", birth_date="2019-03-12") is None
    assert bi.child_index(key, first_name="Zoé", last_name="X", birth_date="") is None


def test_commune_spellings_meet_in_the_family_hint():
    key = bi.derive_key(b"k" * 32)
    spellings = ("Saint-Gaudens", "St Gaudens", "saint gaudens", "ST-GAUDENS")
    hints = {bi.family_hint(key, last_name="Martin", commune_name=s) for s in spellings}
    assert len(hints) == 1
    assert bi.family_hint(key, last_name="Martin", commune_name="Muret") not in hints


def test_another_key_gives_other_indexes():
    args = dict(first_name="Zoé", last_name="Martin", birth_date="2019-03-12")
    assert bi.child_index(bi.derive_key(b"a" * 32), **args) != bi.child_index(bi.derive_key(b"b" * 32), **args)
