"""The one declaration of the questionnaire, and the one summary that reads it back."""
from __future__ import annotations

import re

import pytest

from portal.domain import questionnaire as Q
from portal.languages import CODES

ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")

FULL = {
    Q.PUBLIC: {
        "source_type": "public", "sector": "",
        "children": [
            {"first_name": "Léa", "last_name": "Martin", "birth_date": "2015-03-12", "age": None, "age_estimate": "",
             "sex": "f", "school": "École Jules Ferry, CE2", "postcode": "31000", "commune": "31555",
             "commune_name": "Toulouse", "postcode_unknown": False, "address": "12 rue des Lilas", "lives_with": "mother"},
            {"first_name": "Tom", "last_name": "", "birth_date": None, "age": None, "age_estimate": "2-5", "sex": "m",
             "school": "", "postcode": "", "commune": "", "commune_name": "", "postcode_unknown": True, "address": "",
             "lives_with": "both_parents"},
        ],
        "adults": {"adult1_name": "Sandrine Martin", "adult1_relation": "mother", "adult1_contact": "06 11 22 33 44",
                   "adult2_name": "Marc Martin", "adult2_relation": "stepparent", "adult2_contact": "",
                   "others": "Un petit frère"},
        "concern": {"categories": ["neglect", "domestic_violence"], "account": "Ligne 1\r\n\r\n\r\n\r\nLigne 2",
                    "since": "weeks", "danger_now": "no"},
        "sender": {"anonymous": "no", "name": "Jeanne Voisine", "relation": "neighbour", "phone": "0611223344",
                   "email": "jeanne@example.org", "contact_language": "ar", "wants_feedback": True},
    },
}
FULL[Q.PROFESSIONAL] = dict(
    FULL[Q.PUBLIC], source_type="professional", sector="school",
    concern={"categories": ["physical"], "account": "", "since": "months", "danger_now": "unknown"},
    pro={"establishment": "École Jules Ferry", "establishment_address": "1 place de l'École", "head_name": "Anne Cheffe",
         "author_name": "Paul Maître", "author_role": "Enseignant", "author_phone": "0561000000",
         "author_email": "p@ecole.example.org",
         "facts": [{"when": "2024-03-04", "what": "Bleus sur les bras."}, {"when": None, "what": "Absente."},
                   {"when": None, "what": ""}],
         "child_spoke_on": "2024-03-05", "child_spoke_how": "Seule avec l'infirmière.",
         "child_words": "« Papa tape. »", "parental_authority": "both_parents", "context": "Famille isolée.",
         "other_services": "PMI", "actions": "Entretien.", "parents_told": "no", "parents_not_told_why": "Risque.",
         "hierarchy_copy": "yes", "signalement": "planned"},
    sender={"contact_language": "fr"})
FULL[Q.ELECTED] = dict(FULL[Q.PUBLIC], source_type="elected")
FULL[Q.YOUNG] = {
    "source_type": "young",
    "children": [{"first_name": "Sam", "postcode": "31000", "commune_name": "Toulouse", "age": 12, "sex": "x"}],
    "concern": {"categories": ["physical", "risky_behaviour"], "account": "Il me crie dessus.", "since": "year",
                "danger_now": "yes"},
    "sender": {"anonymous": "yes", "name": "", "relation": "", "phone": "", "email": "", "contact_language": "fr",
               "wants_feedback": False},
}


def all_codes():
    for vocabulary in Q.VOCABULARIES:
        for code, label in vocabulary.items:
            yield vocabulary, code, label


def test_every_code_of_every_vocabulary_has_a_label_in_every_locale():
    assert len(list(all_codes())) > 50
    for locale in CODES:
        t = Q.translations(locale)
        for _vocabulary, code, label in all_codes():
            assert label and label.strip() and label != code, code
            assert t.gettext(label).strip(), (locale, code)
    for code, name in Q.LANGUAGE_NAMES.items:
        assert code in CODES and name


def test_priority_categories_come_from_the_declaration():
    from portal.domain import priority
    assert tuple(priority.CATEGORIES) == Q.CATEGORY_CODES
    assert set(Q.YOUNG_WORRIES.codes) <= set(Q.CATEGORY_CODES)


def _rows(sections):
    return [(s.title, r) for s in sections for r in s.rows]


def _codes_and_keys():
    keys = {q.key for step in Q.STEPS.values() for q in step.questions}
    codes = {code for _v, code, _l in all_codes()}
    return keys | codes


@pytest.mark.parametrize("path", list(Q.PATHS))
@pytest.mark.parametrize("locale", ["fr", "en", "ar"])
def test_a_full_report_reads_in_words(path, locale):
    sections = Q.summary(FULL[path], None, locale, files=["photo.jpg"])
    forbidden = _codes_and_keys() - {"Toulouse"}
    for title, row in _rows(sections):
        assert row.label and row.label.strip(), (title, row)
        for bad in ("True", "False", "None"):
            assert bad not in row.value, row
        assert not ISO_DATE.search(row.value), row
        assert row.value not in forbidden, row           # a code or a key alone is never an answer
        assert row.label not in forbidden, row


def test_french_dates_and_words():
    rows = {r.key: r.value for _t, r in _rows(Q.summary(FULL[Q.PROFESSIONAL], None, "fr"))}
    assert "12/03/2015" in [r.value for _t, r in _rows(Q.summary(FULL[Q.PROFESSIONAL], None, "fr"))]
    assert rows["fact1"] == "04/03/2024 – Bleus sur les bras."
    assert rows["fact2"] == "Absente."
    assert "fact3" not in rows                          # an empty fact row is not a fact
    assert rows["child_spoke_on"] == "05/03/2024"
    assert rows["parents_not_told_why"] == "Risque."


def test_every_answered_question_is_read_back():
    for path, answers in FULL.items():
        rows = [r for _t, r in _rows(Q.summary(answers, None, "en"))]
        values = " | ".join(r.value for r in rows)
        for section in ("adults", "concern", "pro", "sender"):
            for key, value in (answers.get(section) or {}).items():
                if isinstance(value, str) and value.strip() and key not in Q.CATEGORY_CODES:
                    q = next(q for s in Q.STEPS.values() if s.section == section for q in s.questions if q.key == key)
                    if q.kind in ("text", "long"):
                        assert Q.clean_text(value) in values, (path, key)
        for child in answers["children"]:
            assert child["first_name"] in values


def test_nothing_the_sender_did_not_say():
    answers = {"source_type": "public", "children": [{"postcode": "31000", "commune_name": "Toulouse", "sex": None,
                                                      "age_estimate": "", "lives_with": ""}],
               "concern": {"categories": ["other"], "account": "x", "since": "", "danger_now": "no"},
               "sender": {"anonymous": "yes", "name": "", "contact_language": "fr", "wants_feedback": False}}
    rows = {r.key: r for _t, r in _rows(Q.summary(answers, None, "en"))}
    assert rows["sex"].value == Q.DASH                  # not a default "I don't know / other" never chosen
    assert rows["age_estimate"].value == Q.DASH         # not the "Choose" placeholder
    assert rows["since"].value == Q.DASH
    assert "name" not in rows and "phone" not in rows   # anonymous: contact questions were not asked
    assert "sector" not in rows                         # only professionals are asked their sector
    assert rows["anonymous"].value == "No, I want to stay anonymous"


def test_age_band_text_and_blank_lines():
    assert Q.child_age_text({"age_estimate": "2-5"}, "en") == "2 to 5 years old"
    assert Q.child_age_text({"age_estimate": "unknown"}, "en") is None
    assert Q.child_age_text({"birth_date": "2015-03-12"}, "fr").endswith("12/03/2015")
    assert Q.clean_text("a\r\n\r\n\r\n\r\nb\n  \nc") == "a\n\nb\n\nc"


def test_young_path_speaks_to_the_young_person():
    sections = Q.summary(FULL[Q.YOUNG], None, "en")
    labels = [r.label for _t, r in _rows(sections)]
    assert "Are you in danger right now?" in labels and "Is the child in danger right now?" not in labels
    values = [r.value for _t, r in _rows(sections)]
    assert "Someone hits me or hurts me, I want to run away or to hurt myself" in values
    assert Q.ADULTS not in [s.step for s in sections]


def test_step_counter():
    assert Q.step_number(Q.PUBLIC, Q.WHO) == (1, 7)
    assert Q.step_number(Q.PUBLIC, Q.ADULTS) == (3, 7)
    assert Q.step_number(Q.PUBLIC, Q.CHILDREN) == (2, 7)
    assert Q.step_number(Q.PROFESSIONAL, Q.FILES) == (7, 8)
    assert Q.step_number(Q.YOUNG, Q.CONCERN) == (3, 6)


def test_the_crip_reads_a_young_persons_report_in_the_third_person():
    """The sender's check page keeps the questions as they were asked ("Your date of birth"); the
    CRIP's case page reads the same answers with the public path's labels ("Date of birth")."""
    answers = {"source_type": "young", "about": "self",
               "children": [{"first_name": "Léa", "birth_date": "2013-03-12", "sex": "f", "postcode": "31000",
                             "commune_name": "Toulouse"}],
               "concern": {"categories": ["neglect"], "account": "Personne ne s'occupe de moi", "danger_now": "no"},
               "sender": {"anonymous": "yes", "contact_language": "fr"}}

    def rows(**kw):
        return {(s.title, r.label): r.value for s in Q.summary(answers, None, "en", **kw) for r in s.rows}

    sender, crip = rows(), rows(for_crip=True)
    assert sender[("About yourself", "Your date of birth")] == "Mar 12, 2013"
    assert crip[("About the child", "Date of birth")] == "Mar 12, 2013"
    assert crip[("About the child", "Where the child lives")] == "31000 Toulouse"
    assert not any("Your date of birth" == label or "About yourself" == title for title, label in crip)
    # the same answers, nothing dropped: one row read each way
    assert len(sender) == len(crip)
