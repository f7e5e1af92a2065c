"""Département profiles: the four shipped files, and validation that names the file and the field."""
from __future__ import annotations

from datetime import time

import pytest

from portal.departements import DAYS, ProfileError, load_profiles, parse_profile, shipped_codes
from tests.conftest import SECRET, base_config

SHIPPED = ["31", "38", "39", "44"]
EVERY_DAY_0830_1700 = {d: ((time(8, 30), time(17, 0)),) for d in DAYS}
ALWAYS = {d: ((time(0, 0), time(23, 59, 59)),) for d in DAYS}


@pytest.fixture(scope="module")
def shipped():
    return load_profiles()


def figures(profile):
    return [(f.value, f.unit, f.year, f.as_of) for f in profile.figures]


# The shipped profiles --------------------------------------------------------------------------

def test_the_four_shipped_profiles_load(shipped):
    assert shipped_codes() == SHIPPED
    assert list(shipped) == SHIPPED
    for code, p in shipped.items():
        assert p.code == code
        assert p.source_file == f"{code}.toml"
        assert p.territories, code


def test_loading_a_subset(shipped):
    assert list(load_profiles(["39", "31"])) == ["39", "31"]
    assert load_profiles(["31"])["31"] == shipped["31"]


def test_haute_garonne(shipped):
    p = shipped["31"]
    assert p.name == "Haute-Garonne"
    assert p.in_name == "en Haute-Garonne"
    assert len(p.phones) == 1
    line = p.crip_phone
    assert line is p.phones[0] and line.role == "crip"
    assert line.number == "0 800 31 08 08"
    assert line.tel == "+33800310808"
    assert line.free is True
    assert line.outside_hours == "119"
    assert line.hours == EVERY_DAY_0830_1700
    # Seeds: 2021 figures (7 450 in care, 6 226 minors, 1 183 MNA, 1 224 adults, 850 children
    # with 450 assistants familiaux, 36.9 % aged 12-18).
    assert figures(p) == [
        (7450, "", 2021, ""),
        (6226, "", 2021, ""),
        (1183, "", 2021, ""),
        (1224, "", 2021, ""),
        (850, "", 2021, ""),
        (36.9, "%", 2021, ""),
    ]
    assert "450" in p.figures[4].label
    assert "MNA" in p.figures[2].label
    assert all(f.source for f in p.figures)


def test_jura(shipped):
    p = shipped["39"]
    assert p.name == "Jura"
    assert p.ip_cell == "Jura Enfance à protéger"
    assert [ph.number for ph in p.phones] == ["03 84 87 41 83"]
    ase = p.phones[0]
    assert ase.role == "ase"
    assert p.crip_phone is None            # the ASE line is not the IP cell's line
    assert ase.tel == "+33384874183"
    assert ase.free is False
    assert ase.has_hours is False          # the seed gives none: not invented
    assert ase.outside_hours == ""
    # Seeds (2024 page): 198 assistants familiaux, 387 children placed with them (1 Jan), 84 CJM
    # incl. 36 MNA (1 Jan 2024), 1 832 followed, 716 housed incl. 137 MNA, ASE budget 40 M€.
    assert figures(p) == [
        (198, "", 2024, ""),
        (387, "", 2024, "1 January"),
        (84, "", 2024, "1 January"),
        (36, "", 2024, "1 January"),
        (1832, "", 2024, ""),
        (716, "", 2024, ""),
        (137, "", 2024, ""),
        (40, "M€", 2024, ""),
    ]
    assert "MNA" in p.figures[3].label and "MNA" in p.figures[6].label


@pytest.mark.parametrize("code, name", [("38", "Isère"), ("44", "Loire-Atlantique")])
def test_profiles_without_a_departement_number_list_no_line(shipped, code, name):
    p = shipped[code]
    assert p.name == name
    # The seed gives no number: none is invented, and the national 119 is not the CRIP's line.
    assert p.phones == ()
    assert p.crip_phone is None
    # Isère's seed has no figure; Loire-Atlantique's two numbers have no year: none is shown.
    assert p.figures == ()


@pytest.mark.parametrize("code", SHIPPED)
def test_shipped_profile_invariants(shipped, code):
    p = shipped[code]
    assert p.website.startswith("https://")
    assert p.in_name.endswith(p.name)
    assert p.in_names["fr"] == p.in_name
    # No demo profile sources its territories: none is shown to the public.
    assert p.public_territories == ()
    assert sum(t.default for t in p.territories) == 1
    assert p.default_territory().default
    assert len({t.code for t in p.territories}) == len(p.territories)
    for t in p.territories:
        assert t.arrondissements or t.postcodes
        for arr in t.arrondissements:
            assert arr.startswith(code), (t.code, arr)
    for f in p.figures:
        assert 1990 <= f.year <= 2100
        assert f.source and f.label


def _contrast_on_white(hex_colour):
    def channel(x):
        x /= 255
        return x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(int(hex_colour[i:i + 2], 16)) for i in (1, 3, 5))
    return 1.05 / (0.2126 * r + 0.7152 * g + 0.0722 * b + 0.05)


@pytest.mark.parametrize("code", SHIPPED)
def test_accent_colour_readable_on_white(shipped, code):
    assert _contrast_on_white(shipped[code].accent_color) >= 4.5


# Validation --------------------------------------------------------------------------------------

HEAD = '''code = "31"
name = "Testshire"
in_name = "en Testshire"
council = "Conseil départemental"
ip_cell = "CRIP"
accent_color = "#123456"
website = "https://example.org"
'''
PHONE = '''
[[phones]]
label = "CRIP line"
role = "crip"
number = "0 800 00 00 00"
free = true
[phones.hours]
mon = ["08:30-12:00", "13:30-17:00"]
sun = ["00:00-24:00"]
'''
TERRITORIES = '''
[[territories]]
code = "north"
name = "North"
arrondissements = ["311"]
default = true

[[territories]]
code = "south"
name = "South"
postcodes = ["31000", "31100"]
'''
FIGURE = '''
[[figures]]
value = 12.5
unit = "%"
label = "children"
year = 2021
as_of = "1 January"
source = "Département"
'''
VALID = HEAD + PHONE + TERRITORIES + FIGURE


def write(tmp_path, text, name="31.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def broken(tmp_path, text, name="31.toml"):
    path = write(tmp_path, text, name)
    with pytest.raises(ProfileError) as exc:
        parse_profile(path)
    err = exc.value
    assert err.path == path
    assert str(err).startswith(f"{name}: field '{err.field}': ")
    return err


def test_the_valid_sample_parses(tmp_path):
    p = parse_profile(write(tmp_path, VALID))
    assert p.code == "31" and p.name == "Testshire"
    assert p.crip_phone.hours == {"mon": ((time(8, 30), time(12)), (time(13, 30), time(17))),
                                  "sun": ((time(0), time(23, 59, 59)),)}
    assert p.territories[1].postcodes == ("31000", "31100")
    assert p.figures[0].value == 12.5 and p.figures[0].as_of == "1 January"
    assert p.email == "" and p.postal_address == ""
    assert list(load_profiles(directory=tmp_path)) == ["31"]


def test_missing_name(tmp_path):
    err = broken(tmp_path, VALID.replace('\nname = "Testshire"\n', "\n"))
    assert err.field == "name"
    assert "missing" in err.problem


def test_empty_name(tmp_path):
    err = broken(tmp_path, VALID.replace('\nname = "Testshire"\n', '\nname = "  "\n'))
    assert err.field == "name"
    assert "empty" in err.problem


def test_name_of_the_wrong_type(tmp_path):
    err = broken(tmp_path, VALID.replace('\nname = "Testshire"\n', "\nname = 31\n"))
    assert err.field == "name"


@pytest.mark.parametrize("colour", ["#12345", "red", "#12345g", "123456", "#1234567"])
def test_bad_accent_color(tmp_path, colour):
    err = broken(tmp_path, VALID.replace('"#123456"', f'"{colour}"'))
    assert err.field == "accent_color"
    assert colour in str(err)


@pytest.mark.parametrize("slot", ["8:30-17:00", "08:30 - 17:00", "08:30", "25:00-26:00", "08:60-09:00", "24:00-24:00"])
def test_bad_hours_slot(tmp_path, slot):
    err = broken(tmp_path, VALID.replace('"08:30-12:00"', f'"{slot}"'))
    assert err.field == "phones[0].hours.mon"
    assert "HH:MM-HH:MM" in err.problem


@pytest.mark.parametrize("slot", ["17:00-08:30", "09:00-09:00"])
def test_slot_ending_before_it_starts(tmp_path, slot):
    err = broken(tmp_path, VALID.replace('"08:30-12:00"', f'"{slot}"'))
    assert err.field == "phones[0].hours.mon"
    assert "ends before it starts" in err.problem


def test_slot_not_a_string(tmp_path):
    err = broken(tmp_path, VALID.replace('"08:30-12:00"', "830"))
    assert err.field == "phones[0].hours.mon"


def test_unknown_day(tmp_path):
    err = broken(tmp_path, VALID.replace("\nmon = ", "\nmonday = "))
    assert err.field == "phones[0].hours.monday"
    assert "unknown day" in err.problem


def test_day_not_a_list(tmp_path):
    err = broken(tmp_path, VALID.replace('mon = ["08:30-12:00", "13:30-17:00"]', 'mon = "08:30-17:00"'))
    assert err.field == "phones[0].hours.mon"


def test_hours_not_a_table(tmp_path):
    text = VALID.replace('[phones.hours]\nmon = ["08:30-12:00", "13:30-17:00"]\nsun = ["00:00-24:00"]\n',
                         'hours = "always"\n')
    err = broken(tmp_path, text)
    assert err.field == "phones[0].hours"


def test_figure_without_year(tmp_path):
    err = broken(tmp_path, VALID.replace("year = 2021\n", ""))
    assert err.field == "figures[0].year"
    assert "missing" in err.problem


@pytest.mark.parametrize("year", ["21", "1850", "3000"])
def test_implausible_year(tmp_path, year):
    err = broken(tmp_path, VALID.replace("year = 2021", f"year = {year}"))
    assert err.field == "figures[0].year"


def test_year_as_a_string(tmp_path):
    err = broken(tmp_path, VALID.replace("year = 2021", 'year = "2021"'))
    assert err.field == "figures[0].year"


def test_figure_value_must_be_a_number(tmp_path):
    err = broken(tmp_path, VALID.replace("value = 12.5", 'value = "12,5"'))
    assert err.field == "figures[0].value"


def test_figure_unit_restricted(tmp_path):
    err = broken(tmp_path, VALID.replace('unit = "%"', 'unit = "kg"'))
    assert err.field == "figures[0].unit"


def test_second_figure_is_named_by_its_index(tmp_path):
    err = broken(tmp_path, VALID + FIGURE.replace("year = 2021\n", ""))
    assert err.field == "figures[1].year"


@pytest.mark.parametrize("postcode", ["3100", "310000", "31 000", "2A000"])
def test_bad_postcode_in_territories(tmp_path, postcode):
    err = broken(tmp_path, VALID.replace('"31100"', f'"{postcode}"'))
    assert err.field == "territories[1].postcodes"
    assert postcode in err.problem


def test_postcode_as_a_number(tmp_path):
    err = broken(tmp_path, VALID.replace('"31100"', "31100"))
    assert err.field == "territories[1].postcodes"


def test_code_not_matching_file_name(tmp_path):
    err = broken(tmp_path, VALID.replace('code = "31"', 'code = "39"'))
    assert err.field == "code"
    assert "file name" in err.problem


def test_code_not_a_departement(tmp_path):
    err = broken(tmp_path, VALID.replace('code = "31"', 'code = "99"'), name="99.toml")
    assert err.field == "code"


def test_invalid_toml(tmp_path):
    err = broken(tmp_path, VALID.replace('name = "Testshire"', 'name = "Testshire'))
    assert err.field == "(file)"
    assert "TOML" in err.problem


def test_not_utf8(tmp_path):
    path = tmp_path / "31.toml"
    path.write_bytes(VALID.replace("Testshire", "T\xe9st").encode("latin-1"))
    with pytest.raises(ProfileError) as exc:
        parse_profile(path)
    assert exc.value.field == "(file)"


def test_no_phones_key(tmp_path):
    err = broken(tmp_path, HEAD + TERRITORIES + FIGURE)
    assert err.field == "phones"
    assert "missing" in err.problem


def test_empty_phone_list(tmp_path):
    # Stated explicitly: the Département has no line of its own to publish (the site shows the 119).
    p = parse_profile(write(tmp_path, HEAD + "phones = []\n" + TERRITORIES + FIGURE))
    assert p.phones == () and p.crip_phone is None


def test_phone_without_number(tmp_path):
    err = broken(tmp_path, VALID.replace('number = "0 800 00 00 00"\n', ""))
    assert err.field == "phones[0].number"


def test_phone_number_malformed(tmp_path):
    err = broken(tmp_path, VALID.replace('"0 800 00 00 00"', '"call us"'))
    assert err.field == "phones[0].number"


def test_outside_hours_only_119(tmp_path):
    err = broken(tmp_path, VALID.replace("free = true\n", 'free = true\noutside_hours = "118"\n'))
    assert err.field == "phones[0].outside_hours"


def test_no_territories(tmp_path):
    err = broken(tmp_path, HEAD + "territories = []\n" + PHONE + FIGURE)
    assert err.field == "territories"


def test_duplicate_territory_codes(tmp_path):
    err = broken(tmp_path, VALID.replace('code = "south"', 'code = "north"'))
    assert err.field == "territories"
    assert "unique" in err.problem


def test_figures_are_optional(tmp_path):
    assert parse_profile(write(tmp_path, HEAD + PHONE + TERRITORIES)).figures == ()


def test_load_profiles_names_the_broken_file(tmp_path):
    write(tmp_path, VALID)
    write(tmp_path, VALID.replace('code = "31"', 'code = "39"').replace('"#123456"', '"blue"'), name="39.toml")
    with pytest.raises(ProfileError) as exc:
        load_profiles(directory=tmp_path)
    assert exc.value.path.name == "39.toml"
    assert exc.value.field == "accent_color"
    assert list(load_profiles(["31"], directory=tmp_path)) == ["31"]


def test_unknown_code_raises():
    with pytest.raises(ProfileError) as exc:
        load_profiles(["99"])
    assert exc.value.path.name == "99.toml"
    message = str(exc.value)
    assert "'99'" in message
    for code in SHIPPED:
        assert code in message


def test_empty_directory_raises(tmp_path):
    with pytest.raises(ProfileError) as exc:
        load_profiles(directory=tmp_path)
    assert exc.value.field == "(directory)"


def _env(tmp_path):
    return {"SECRET_KEY": SECRET, "PORTAL_INSTANCE_PATH": str(tmp_path / "instance")}


@pytest.mark.parametrize("codes", [["99"], ["31", "99"], ["31 "]])
def test_create_app_with_bad_portal_departements_raises(tmp_path, codes):
    from portal import ProfileError as Exported, create_app
    assert Exported is ProfileError
    with pytest.raises(ProfileError):
        create_app(base_config(tmp_path, PORTAL_DEPARTEMENTS=codes), env=_env(tmp_path))


def test_create_app_with_bad_portal_departements_from_env_raises(tmp_path):
    from portal import create_app
    env = dict(_env(tmp_path), PORTAL_DEPARTEMENTS="31,75", DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(ProfileError, match="75"):
        create_app(env=env)


# The Département's deadlines ([deadlines]) -------------------------------------------------------

def test_deadlines_default_when_the_table_is_absent(tmp_path):
    from portal.departements import DEADLINE_DEFAULTS
    p = parse_profile(write(tmp_path, VALID))
    assert (p.deadlines.under_2_days, p.deadlines.urgent_days, p.deadlines.analysis_working_days) == (30, 15, 1)
    assert DEADLINE_DEFAULTS == {"under_2_days": 30, "urgent_days": 15, "analysis_working_days": 1}


def test_deadlines_read_from_the_profile(tmp_path):
    p = parse_profile(write(tmp_path, VALID + "\n[deadlines]\nunder_2_days = 21\nanalysis_working_days = 2\n"))
    assert (p.deadlines.under_2_days, p.deadlines.urgent_days, p.deadlines.analysis_working_days) == (21, 15, 2)


@pytest.mark.parametrize("line, field", [
    ("under_2_days = 0", "deadlines.under_2_days"),
    ("urgent_days = 93", "deadlines.urgent_days"),
    ('analysis_working_days = "1"', "deadlines.analysis_working_days"),
    ("evaluation_days = 92", "deadlines.evaluation_days"),
])
def test_bad_deadline_names_the_field(tmp_path, line, field):
    err = broken(tmp_path, VALID + f"\n[deadlines]\n{line}\n")
    assert err.field == field


@pytest.mark.parametrize("code", ["31", "38", "39", "44"])
def test_shipped_profiles_state_their_deadlines(shipped, code):
    import tomllib
    from portal.departements import HERE
    raw = tomllib.loads((HERE / f"{code}.toml").read_text(encoding="utf-8"))
    assert set(raw["deadlines"]) == {"under_2_days", "urgent_days", "analysis_working_days"}
    assert shipped[code].deadlines.analysis_working_days == raw["deadlines"]["analysis_working_days"]


# Phone roles, national numbers, territories shown to the public, the "in <name>" phrases --------

def test_a_phone_must_say_whose_line_it_is(tmp_path):
    err = broken(tmp_path, VALID.replace('role = "crip"\n', ""))
    assert err.field == "phones[0].role" and "missing" in err.problem
    err = broken(tmp_path, VALID.replace('role = "crip"', 'role = "hotline"'))
    assert err.field == "phones[0].role"


@pytest.mark.parametrize("number", ["119", "1 19", "17", "112", "114", "15"])
def test_a_national_number_is_not_a_departement_line(tmp_path, number):
    err = broken(tmp_path, VALID.replace('"0 800 00 00 00"', f'"{number}"'))
    assert err.field == "phones[0].number"
    assert "national number" in err.problem


def test_only_one_line_is_the_cells_own(tmp_path):
    err = broken(tmp_path, VALID + PHONE.replace("0 800 00 00 00", "05 00 00 00 00"))
    assert err.field == "phones"


def test_an_ase_line_is_not_the_crip_line(tmp_path):
    p = parse_profile(write(tmp_path, VALID.replace('role = "crip"', 'role = "ase"')))
    assert p.crip_phone is None and p.phones[0].role == "ase"


def test_only_sourced_territories_are_public(tmp_path):
    text = VALID.replace('name = "South"', 'name = "South"\nsource = "Département, carte des MDS 2025"')
    p = parse_profile(write(tmp_path, text))
    assert [t.code for t in p.public_territories] == ["south"]
    assert p.public_territories[0].source == "Département, carte des MDS 2025"
    assert parse_profile(write(tmp_path, VALID)).public_territories == ()


def test_in_names(tmp_path):
    p = parse_profile(write(tmp_path, VALID + '\n[in_names]\npt = "no Testshire"\n'))
    assert p.in_names == {"pt": "no Testshire", "fr": "en Testshire"}
    err = broken(tmp_path, VALID + '\n[in_names]\npt = ""\n')
    assert err.field == "in_names.pt"


# Publication and accessibility facts ------------------------------------------------------------

def test_publication_and_accessibility_default_to_not_given(tmp_path):
    p = parse_profile(write(tmp_path, VALID))
    assert (p.publication.director, p.publication.host, p.publication.dpo_contact) == ("", "", "")
    assert p.accessibility.status == "non-compliant" and p.accessibility.statement_date is None
    assert p.missing_for_production() == [
        "publication.director", "publication.host", "publication.dpo_contact",
        "accessibility.statement_date", "accessibility.contact", "accessibility.plan"]


def test_accessibility_table_is_validated(tmp_path):
    err = broken(tmp_path, VALID + '\n[accessibility]\nstatus = "compliant-ish"\n')
    assert err.field == "accessibility.status"
    err = broken(tmp_path, VALID + '\n[accessibility]\nstatus = "fully compliant"\n')
    assert err.field == "accessibility.status" and "audit" in err.problem
    err = broken(tmp_path, VALID + '\n[accessibility]\nstatement_date = "25/11/2026"\n')
    assert err.field == "accessibility.statement_date"
    err = broken(tmp_path, VALID + '\n[accessibility]\ncompliance_rate = 80\n')
    assert err.field == "accessibility.compliance_rate"
    err = broken(tmp_path, VALID + '\n[accessibility]\nplan = ["2027"]\n')
    assert err.field == "accessibility.plan[0]"
    err = broken(tmp_path, VALID + '\n[accessibility]\nauditor = "x"\n')
    assert err.field == "accessibility.auditor"
    err = broken(tmp_path, VALID + '\n[publication]\ndpo = "x"\n')
    assert err.field == "publication.dpo"


def test_shipped_profiles_give_a_statement_date_and_invent_no_legal_fact(shipped):
    for code, p in shipped.items():
        assert p.accessibility.statement_date is not None, code
        assert p.publication.director == p.publication.host == p.publication.dpo_contact == "", code
