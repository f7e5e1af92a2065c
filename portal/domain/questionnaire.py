"""The IP questionnaire, declared once: paths, steps, questions, answer vocabularies, and how each
answer reads in a summary (check page, CRIP case page, follow-up page, PDF copy).

No Flask here. Texts are English message ids marked with `N_` (extracted into the catalogs); the
web layer translates them lazily for forms, and `summary()` translates them for a given locale.
Changing a question's label or adding an answer code is one edit, here.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from collections.abc import Callable

from babel.dates import format_date, format_datetime
from babel.support import NullTranslations, Translations

from ..languages import LANGUAGES


def N_(msgid: str) -> str:
    """Marks a message id for extraction; translated where it is shown."""
    return msgid


DASH = "—"
LOCALE = "@locale"      # a default answer: the language the sender reads the site in
TRANSLATIONS = Path(__file__).resolve().parents[1] / "translations"

# --- Steps and paths ------------------------------------------------------------------------------
# The only place where step slugs (the URL segment of each step) are written.
WHO, CHILD, CHILDREN, ADULTS, CONCERN, PRO, SENDER, FILES, URGENT = (
    "qui", "enfant", "enfants", "adultes", "inquietude", "professionnel", "vous", "documents", "urgence")
PUBLIC, PROFESSIONAL, YOUNG = "public", "professional", "young"
# An elected official (a mayor…) answers the public's questions, but is owed feedback like a
# professional (CASF L226-5; portal.domain.priority.FEEDBACK_DUTY_SOURCES).
ELECTED = "elected"
PATHS = {
    PUBLIC: (WHO, CHILD, CHILDREN, ADULTS, CONCERN, SENDER, FILES),
    ELECTED: (WHO, CHILD, CHILDREN, ADULTS, CONCERN, SENDER, FILES),
    PROFESSIONAL: (WHO, CHILD, CHILDREN, ADULTS, CONCERN, PRO, SENDER, FILES),
    YOUNG: (WHO, CHILD, CHILDREN, CONCERN, SENDER, FILES),
}
MAX_CHILDREN = 12
# A variant of the young path (not a path): a young person writing about a friend, a brother or a
# sister. Texts declared for it fall back on the young path's, then on the common ones.
YOUNG_FRIEND = "young_friend"
FALLBACK = {YOUNG_FRIEND: YOUNG}


def path_of(answers: dict) -> str:
    source = (answers or {}).get("source_type")
    return source if source in PATHS else PUBLIC


def audience(answers: dict, path: str | None = None) -> str:
    """Whose texts a report is asked and read with: its path, or YOUNG_FRIEND."""
    path = path if path in PATHS else path_of(answers)
    if path == YOUNG and (answers or {}).get("about") == "other":
        return YOUNG_FRIEND
    return path


def base_path(variant: str) -> str:
    return FALLBACK.get(variant, variant)


def _pick(variants: dict, variant: str, what: str, default):
    for key in (variant, FALLBACK.get(variant)):
        if key in variants and what in variants[key]:
            return variants[key][what]
    return default


def step_number(path: str, step: str | None) -> tuple[int, int]:
    """("Step n of total"): the list of children counts with the child step; the check page is last."""
    shown = [s for s in PATHS[path] if s != CHILDREN]
    total = len(shown) + 1
    if step == CHILDREN:
        step = CHILD
    if step == URGENT:
        step = CONCERN
    return (shown.index(step) + 1 if step in shown else total), total


# --- Vocabularies ---------------------------------------------------------------------------------

@dataclass(eq=False)
class Vocabulary:
    items: tuple            # ((code, msgid), ...) in the order shown

    @property
    def codes(self) -> tuple:
        return tuple(code for code, _l in self.items)

    def label(self, code):
        return dict(self.items).get(code)


def vocab(*items) -> Vocabulary:
    return Vocabulary(tuple(items))


SOURCES = vocab(
    (PUBLIC, N_("A member of the public or of the family (neighbour, relative, friend…)")),
    (PROFESSIONAL, N_("A professional (school, health, social work, childcare, sport and leisure, police or justice…)")),
    (YOUNG, N_("A young person: I am writing about myself or about a friend")),
    (ELECTED, N_("An elected official (mayor, deputy mayor…)")),
)
SECTORS = vocab(
    ("school", N_("School (Éducation nationale, private school)")),
    ("health", N_("Health (doctor, hospital, PMI, nurse…)")),
    ("social", N_("Social work")),
    ("childcare", N_("Childcare (nursery, childminder)")),
    ("leisure", N_("Sport, leisure, culture")),
    ("police_justice", N_("Police, gendarmerie or justice")),
    ("other", N_("Other")),
)
SEXES = vocab(("x", N_("I don't know / other")), ("f", N_("Girl")), ("m", N_("Boy")))
AGE_BANDS = vocab(
    ("0-1", N_("Baby (under 2)")), ("2-5", N_("2 to 5 years old")), ("6-10", N_("6 to 10 years old")),
    ("11-14", N_("11 to 14 years old")), ("15-17", N_("15 to 17 years old")), ("unknown", N_("I don't know")),
)
LIVES_WITH = vocab(
    ("both_parents", N_("Both parents")), ("mother", N_("Mother")), ("father", N_("Father")),
    ("alternating", N_("Alternately with each parent")), ("family", N_("Other family members")),
    ("placement", N_("Foster family or children's home")), ("other", N_("Someone else")),
    ("unknown", N_("I don't know")),
)
CATEGORIES = vocab(
    ("physical", N_("Physical violence")),
    ("psychological", N_("Psychological violence (threats, humiliation…)")),
    ("sexual", N_("Sexual violence")),
    ("neglect", N_("Neglect (food, care, hygiene, supervision)")),
    ("domestic_violence", N_("Exposure to violence between adults at home")),
    ("upbringing", N_("Conditions of upbringing (housing, school absence, isolation…)")),
    ("risky_behaviour", N_("Risky behaviour (running away, drugs, self-harm…)")),
    ("unaccompanied", N_("Unaccompanied minor (a child alone, without family in France)")),
    ("other", N_("Something else")),
)
# The young person's worries: the same codes (the CRIP's priority rules read them), plain words.
YOUNG_WORRIES = vocab(
    # Translators: familiar register (tu)
    ("physical", N_("Someone hits me or hurts me")),
    # Translators: familiar register (tu)
    ("psychological", N_("Someone shouts at me, threatens me or puts me down")),
    # Translators: familiar register (tu)
    ("sexual", N_("Someone touches me in a way I don't want, or makes me do sexual things")),
    # Translators: familiar register (tu)
    ("neglect", N_("Nobody looks after me (food, care, being left alone)")),
    # Translators: familiar register (tu)
    ("domestic_violence", N_("The adults at home fight or hit each other")),
    # Translators: familiar register (tu)
    ("risky_behaviour", N_("I want to run away or to hurt myself")),
    # Translators: familiar register (tu)
    ("other", N_("Something else")),
)
# The same worries, when a young person writes about a friend, a brother or a sister.
YOUNG_FRIEND_WORRIES = vocab(
    # Translators: familiar register (tu)
    ("physical", N_("Someone hits them or hurts them")),
    # Translators: familiar register (tu)
    ("psychological", N_("Someone shouts at them, threatens them or puts them down")),
    # Translators: familiar register (tu)
    ("sexual", N_("Someone touches them in a way they don't want, or makes them do sexual things")),
    # Translators: familiar register (tu)
    ("neglect", N_("Nobody looks after them (food, care, being left alone)")),
    # Translators: familiar register (tu)
    ("domestic_violence", N_("The adults at home fight or hit each other")),
    # Translators: familiar register (tu)
    ("risky_behaviour", N_("They want to run away or to hurt themselves")),
    # Translators: familiar register (tu)
    ("other", N_("Something else")),
)
CATEGORY_CODES = CATEGORIES.codes
SINCE = vocab(
    ("days", N_("A few days")), ("weeks", N_("A few weeks")), ("months", N_("A few months")),
    ("year", N_("More than a year")), ("unknown", N_("I don't know")),
)
DANGER = vocab(("no", N_("No")), ("yes", N_("Yes")), ("unknown", N_("I don't know")))
YOUNG_DANGER = vocab(
    ("no", N_("No")),
    # Translators: familiar register (tu)
    ("yes", N_("Yes, I am in danger now")),
    ("unknown", N_("I don't know")),
)
YOUNG_FRIEND_DANGER = vocab(
    ("no", N_("No")),
    # Translators: familiar register (tu)
    ("yes", N_("Yes, they are in danger now")),
    ("unknown", N_("I don't know")),
)
# Translators: familiar register (tu)
ABOUT = vocab(("self", N_("About me")), ("other", N_("About a friend, a brother or a sister")))
# Translators: familiar register (tu)
YOUNG_SEXES = vocab(("f", N_("Girl")), ("m", N_("Boy")), ("x", N_("Other, or I'd rather not say")))
RELATIONS = vocab(
    ("mother", N_("Mother")), ("father", N_("Father")), ("stepparent", N_("Step-parent or partner of a parent")),
    ("grandparent", N_("Grandparent")), ("sibling", N_("Brother or sister")), ("other_family", N_("Other family")),
    ("other", N_("Other")),
)
SENDER_RELATIONS = vocab(
    ("family", N_("Family")), ("neighbour", N_("Neighbour")), ("friend", N_("Friend of the family")),
    ("self", N_("I am the child or young person")), ("friend_young", N_("A friend of the young person")),
    ("other", N_("Other")),
)
YES_NO = vocab(("yes", N_("Yes")), ("no", N_("No")))
SIGNALEMENT = vocab(("no", N_("No")), ("yes", N_("Yes, already sent")), ("planned", N_("Not yet, it will be sent")))
ANONYMOUS = vocab(("no", N_("Yes, the CRIP may contact me")), ("yes", N_("No, I want to stay anonymous")))
PARENTAL_AUTHORITY = vocab(
    ("both_parents", N_("Both parents")), ("mother", N_("The mother only")), ("father", N_("The father only")),
    ("guardian", N_("A guardian or the Aide sociale à l'enfance")), ("other", N_("Someone else")),
    ("unknown", N_("I don't know")),
)
LANGUAGE_NAMES = vocab(*((code, name) for code, name, _d in LANGUAGES))   # each named in itself


# --- Questions ------------------------------------------------------------------------------------

def always(_section, _answers) -> bool:
    return True


def never(_section, _answers) -> bool:
    return False


class equals:
    """A condition: the answer `key` (of this section, or of the whole report with root=True) is `value`.
    A condition on the same page can be shown in place by the browser (`data-shown-when`)."""

    def __init__(self, key: str, value, *, root: bool = False):
        self.key, self.value, self.root = key, value, root

    def __call__(self, section, answers) -> bool:
        return ((answers if self.root else section) or {}).get(self.key) == self.value

    @property
    def in_page(self) -> str | None:
        return None if self.root else f"{self.key}={self.value}"


class empty:
    """A condition: the answer `key` of this section is empty (for "give a phone or an e-mail")."""

    def __init__(self, key: str):
        self.key = key

    def __call__(self, section, _answers) -> bool:
        return not str((section or {}).get(self.key) or "").strip()


def not_path(path: str) -> Callable:
    return lambda _section, answers: path_of(answers) != path


@dataclass(eq=False)
class Box:
    """Consecutive questions asked together under one legend (a fieldset)."""
    legend: str | None              # None: the page's title is the legend (its H1)
    hint: str | None = None
    anchor: str | None = None       # the fieldset's id, where a secondary action lands
    variants: dict = field(default_factory=dict)

    def text(self, what: str, variant: str):
        return _pick(self.variants, variant, what, getattr(self, what))


@dataclass(eq=False)
class Question:
    key: str
    label: str                              # message id
    kind: str = "text"                      # text long email tel date int choice radio multi bool facts place
    hint: str | None = None
    vocabulary: Vocabulary | None = None
    shown: Callable = always                # asked (and summarised) only when this holds
    required: Callable = never              # must be answered when shown and this holds
    missing: str | None = None              # what the sender reads when a required answer is missing
    check: Callable | None = None           # (section, answers) -> message id of what is wrong, or None
    paths: tuple = tuple(PATHS)             # the paths that ask it
    variants: dict = field(default_factory=dict)   # path or variant -> {"label"|"hint"|"vocabulary"|...: ...}
    group: str | None = None                # consecutive questions of one group read as one summary row
    summary_label: str | None = None        # the label in a summary, when not the question itself
    max_length: int | None = None
    box: Box | None = None                  # the fieldset it is asked in
    optional: bool | None = None            # "(optional)" beside it; by default: when not required now
    asked: bool = True                      # False in a variant that does not ask it
    default: object = None                  # the answer offered before the sender gives one
    placeholder: str | None = N_("Choose")  # the first option of a list ("choice")
    unknown_label: str | None = None        # "place": the box to tick when the postcode is not known
    range: tuple | None = None              # "int": (lowest, highest, message id)
    attrs: dict = field(default_factory=dict)      # how the browser shows it (autocomplete, rows…)

    def text(self, what: str, path: str):
        return _pick(self.variants, path, what, getattr(self, what))

    def vocabulary_for(self, path: str) -> Vocabulary | None:
        return self.text("vocabulary", path)

    def asked_by(self, variant: str) -> bool:
        return base_path(variant) in self.paths and bool(self.text("asked", variant))

    def marked_optional(self, variant: str, section: dict, answers: dict) -> bool:
        """Whether "(optional)" is shown beside it: when it is not required as things stand."""
        chosen = self.text("optional", variant)
        return not self.required(section or {}, answers or {}) if chosen is None else chosen


@dataclass(eq=False)
class Step:
    slug: str
    section: str | None         # where its answers live in the report ("children" is a list)
    title: str
    questions: tuple = ()
    variants: dict = field(default_factory=dict)
    kind: str = "questions"     # questions, or a page with its own hook: list, files, notice
    intro: str | None = None    # a paragraph under the title
    hint: str | None = None     # a line of help before the buttons
    notice: str | None = None   # a box before the questions (the 119 for young people)
    heading: str = "h1"         # h1; "legend": the first fieldset's legend; "question": the first question's
    more: str | None = None     # the title of the next entries of a repeated step (another child)
    shown: Callable | None = None       # (answers) -> whether the path goes through it
    then: Callable | None = None        # (section) -> a step to visit before the next one, or None

    def title_for(self, path: str) -> str:
        return _pick(self.variants, path, "title", self.title)

    def text(self, what: str, path: str):
        return _pick(self.variants, path, what, getattr(self, what))

    def asked(self, path: str):
        return [q for q in self.questions if q.asked_by(path)]

    @property
    def repeated(self) -> bool:
        return self.section == "children"


def young_self(answers) -> bool:
    return path_of(answers) == YOUNG and audience(answers) != YOUNG_FRIEND


def _postcode_is_valid(section, _answers):
    from .routing import normalize_postcode
    if (section.get("postcode") or "").strip() and normalize_postcode(section["postcode"]) is None:
        return N_("Enter a postcode of 5 digits, for example 31000.")
    return None


def _age_matches_birth_date(section, _answers):
    from .priority import age_on, paris_date       # priority reads this module's categories
    born, age = section.get("birth_date"), section.get("age")
    if not born or age in (None, ""):
        return None
    try:
        born = born if isinstance(born, date) else date.fromisoformat(born)
    except ValueError:
        return None
    from datetime import timezone
    if abs(age_on(born, paris_date(datetime.now(timezone.utc))) - int(age)) > 1:
        return N_("The age does not match the date of birth.")
    return None


def _facts_have_words(section, _answers):
    for fact in section.get("facts") or []:
        if fact.get("when") and not (fact.get("what") or "").strip():
            return N_("Each date needs the fact observed that day.")
    return None


SHORT, LONG = 120, 20000
YOUNG_ONLY = (YOUNG,)
NOT_YOUNG = (PUBLIC, PROFESSIONAL, ELECTED)
PRO_ONLY = (PROFESSIONAL,)
# Translators: familiar register (tu)
_YOU_MAY_LEAVE_IT = N_("You can leave it empty.")

IDENTITY = Box(None)
WHERE = Box(N_("Where the child lives"), anchor="where",
            variants={YOUNG: {"legend": N_("Where you live")},
                      # Translators: familiar register (tu)
                      YOUNG_FRIEND: {"legend": N_("Where they live")}})
FIRST_ADULT, SECOND_ADULT = Box(N_("First adult")), Box(N_("Second adult"))
ESTABLISHMENT = Box(N_("Establishment and author"))
CHILD_SAID = Box(N_("What the child said"))
FAMILY = Box(N_("The family and what was already done"))
CONTACT = Box(N_("Your contact details"), hint=N_("Give a phone number or an e-mail address, or both."),
              # Translators: familiar register (tu)
              variants={YOUNG: {"legend": N_("How can we reach you?"),
                                # Translators: familiar register (tu)
                                "hint": N_("A phone number or an e-mail address, or both.")}})

STEPS = {
    WHO: Step(WHO, None, N_("Who are you?"), (
        Question("source_type", N_("Who are you?"), "radio", vocabulary=SOURCES, required=always,
                 missing=N_("Choose who you are."), variants={YOUNG: {"label": N_("Who is writing?")}},
                 hint=N_("Young people: you will be asked fewer questions, in simple words. You can also call the 119 (free, day and night) or chat on allo119.gouv.fr.")),
        Question("sector", N_("Your sector"), "choice", vocabulary=SECTORS, placeholder=N_("Choose your sector"),
                 shown=equals("source_type", PROFESSIONAL), required=always, missing=N_("Choose your sector.")),
        # Translators: familiar register (tu)
        Question("about", N_("Who are you writing about?"), "radio", vocabulary=ABOUT,
                 shown=equals("source_type", YOUNG), required=always,
                 # Translators: familiar register (tu)
                 missing=N_("Choose who you are writing about.")),
    ), heading="question", variants={YOUNG: {"title": N_("Who is writing?")}}),
    CHILD: Step(CHILD, "children", N_("About the child"), (
        Question("first_name", N_("First name"), hint=N_("Leave empty if you don't know."), max_length=SHORT,
                 group="child_name", summary_label=N_("Name"), box=IDENTITY,
                 # Translators: familiar register (tu)
                 variants={YOUNG: {"label": N_("Your first name"), "hint": _YOU_MAY_LEAVE_IT},
                           # Translators: familiar register (tu)
                           YOUNG_FRIEND: {"label": N_("Their first name"), "hint": _YOU_MAY_LEAVE_IT}},
                 attrs={"autocomplete": "off"}),
        Question("last_name", N_("Last name"), hint=N_("Leave empty if you don't know."), max_length=SHORT,
                 group="child_name", box=IDENTITY,
                 # Translators: familiar register (tu)
                 variants={YOUNG: {"label": N_("Your last name"), "hint": _YOU_MAY_LEAVE_IT},
                           # Translators: familiar register (tu)
                           YOUNG_FRIEND: {"label": N_("Their last name"), "hint": _YOU_MAY_LEAVE_IT}}),
        Question("birth_date", N_("Date of birth"), "date", hint=N_("If you know it."), box=IDENTITY,
                 # Translators: familiar register (tu)
                 variants={YOUNG: {"label": N_("Your date of birth"), "hint": _YOU_MAY_LEAVE_IT},
                           # Translators: familiar register (tu)
                           YOUNG_FRIEND: {"label": N_("Their date of birth")}}),
        Question("age", N_("Age in years"), "int", hint=N_("If you don't know the date of birth."), box=IDENTITY,
                 range=(0, 21, N_("Enter an age between 0 and 21.")), check=_age_matches_birth_date,
                 # Translators: familiar register (tu)
                 variants={YOUNG: {"label": N_("How old are you?"), "hint": None},
                           # Translators: familiar register (tu)
                           YOUNG_FRIEND: {"label": N_("How old are they?"), "hint": None}}),
        Question("age_estimate", N_("Approximate age"), "choice", vocabulary=AGE_BANDS, box=IDENTITY,
                 hint=N_("If you know neither the date of birth nor the age."),
                 variants={YOUNG: {"asked": False},
                           # Translators: familiar register (tu)
                           YOUNG_FRIEND: {"asked": True, "label": N_("If you are not sure: about how old?"),
                                          "hint": None}}),
        Question("sex", N_("Sex"), "radio", vocabulary=SEXES, box=IDENTITY,
                 # Translators: familiar register (tu)
                 variants={YOUNG: {"label": N_("You are"), "vocabulary": YOUNG_SEXES},
                           YOUNG_FRIEND: {"label": N_("Sex"), "vocabulary": SEXES}}),
        Question("school", N_("School and class"), hint=N_("For example: École Jules Ferry, CE2."),
                 paths=NOT_YOUNG, max_length=SHORT, box=IDENTITY),
        Question("postcode", N_("Postcode where the child lives"), "place", group="place", box=WHERE,
                 hint=N_("5 digits, for example 31000. Used to send your report to the right team."),
                 summary_label=N_("Where the child lives"), unknown_label=N_("I don't know where the child lives"),
                 required=lambda section, _a: not section.get("postcode_unknown"), check=_postcode_is_valid,
                 missing=N_("Enter the postcode, or tick “I don't know where the child lives”."),
                 variants={YOUNG: {"summary_label": N_("Where you live"),
                                   # Translators: familiar register (tu)
                                   "label": N_("Your postcode"),
                                   # Translators: familiar register (tu)
                                   "hint": N_("5 digits, for example 31000. So that your message reaches the right team."),
                                   # Translators: familiar register (tu)
                                   "unknown_label": N_("I don't know my postcode"),
                                   # Translators: familiar register (tu)
                                   "missing": N_("Enter your postcode, or tick “I don't know my postcode”.")},
                           # Translators: familiar register (tu)
                           YOUNG_FRIEND: {"summary_label": N_("Where they live"),
                                          # Translators: familiar register (tu)
                                          "label": N_("The postcode where they live"),
                                          # Translators: familiar register (tu)
                                          "unknown_label": N_("I don't know where they live"),
                                          # Translators: familiar register (tu)
                                          "missing": N_("Enter the postcode, or tick “I don't know where they live”.")}}),
        Question("address", N_("Address"), hint=N_("If you know it: street and number."), max_length=300, box=WHERE,
                 # Translators: familiar register (tu)
                 variants={YOUNG: {"label": N_("Your address"), "hint": _YOU_MAY_LEAVE_IT},
                           # Translators: familiar register (tu)
                           YOUNG_FRIEND: {"label": N_("Their address")}}),
        Question("lives_with", N_("Who does the child live with?"), "choice", vocabulary=LIVES_WITH, paths=NOT_YOUNG,
                 box=WHERE),
    # Translators: familiar register (tu)
    ), variants={YOUNG: {"title": N_("About yourself"),
                         # Translators: familiar register (tu)
                         "intro": N_("Only where you live is needed, so that the right team can help. Everything else is up to you.")},
                 # Translators: familiar register (tu)
                 YOUNG_FRIEND: {"title": N_("About your friend, brother or sister"),
                                # Translators: familiar register (tu)
                                "intro": N_("Only where they live is needed, so that the right team can help. Everything else is up to you."),
                                # Translators: familiar register (tu)
                                "more": N_("Another friend, brother or sister (%(n)s)")}},
        heading="legend", more=N_("Another child (%(n)s)")),
    CHILDREN: Step(CHILDREN, "children", N_("Children concerned"), kind="list",
                   shown=lambda answers: not young_self(answers),
                   intro=N_("Are other children of the same household concerned (brothers, sisters)? Add them: they will be assessed too."),
                   more=N_("Add another child"),
                   # Translators: familiar register (tu)
                   variants={YOUNG_FRIEND: {"title": N_("The young people you are writing about"),
                                            # Translators: familiar register (tu)
                                            "intro": N_("Is someone else in the same situation? You can add them too."),
                                            # Translators: familiar register (tu)
                                            "more": N_("Add another friend, brother or sister")}}),
    ADULTS: Step(ADULTS, "adults", N_("Adults concerned"), (
        Question("adult1_name", N_("Name"), group="adult1", summary_label=N_("First adult"), max_length=SHORT,
                 box=FIRST_ADULT),
        Question("adult1_relation", N_("Relation to the child"), "choice", vocabulary=RELATIONS, group="adult1",
                 box=FIRST_ADULT),
        Question("adult1_contact", N_("Address or phone, if known"), group="adult1", max_length=300, box=FIRST_ADULT),
        Question("adult2_name", N_("Name"), group="adult2", summary_label=N_("Second adult"), max_length=SHORT,
                 box=SECOND_ADULT),
        Question("adult2_relation", N_("Relation to the child"), "choice", vocabulary=RELATIONS, group="adult2",
                 box=SECOND_ADULT),
        Question("adult2_contact", N_("Address or phone, if known"), group="adult2", max_length=300, box=SECOND_ADULT),
        Question("others", N_("Other adults or children in the household"), "long",
                 hint=N_("For example brothers and sisters, a partner, grandparents."), attrs={"rows": 4}),
    ), intro=N_("Parents or other adults who live with the child or look after them. Leave empty what you do not know.")),
    CONCERN: Step(CONCERN, "concern", N_("What worries you"), (
        Question("categories", N_("What worries you?"), "multi", vocabulary=CATEGORIES, required=always,
                 missing=N_("Choose at least one kind of worry."),
                 variants={YOUNG: {"vocabulary": YOUNG_WORRIES,
                                   # Translators: familiar register (tu)
                                   "label": N_("What is happening to you?"),
                                   # Translators: familiar register (tu)
                                   "missing": N_("Choose at least one thing that is happening.")},
                           YOUNG_FRIEND: {"vocabulary": YOUNG_FRIEND_WORRIES,
                                          # Translators: familiar register (tu)
                                          "label": N_("What is happening to them?")}}),
        Question("account", N_("Describe what you saw, heard or were told"), "long",
                 hint=N_("Facts, with dates if you have them, and who told you. Write in your own language if you prefer."),
                 required=not_path(PROFESSIONAL), missing=N_("Describe what worries you."), attrs={"rows": 10},
                 variants={YOUNG: {"label": N_("What is happening?"),
                                   "hint": N_("Write it as you would say it. Short is fine."),
                                   "missing": N_("Write a few words about what is happening.")},
                           PROFESSIONAL: {"label": N_("Anything the dated facts do not say"),
                                          "hint": N_("The facts, each with its date, are asked on the next page: write here only what they do not carry."),
                                          "attrs": {"rows": 6}}}),
        Question("since", N_("Since when?"), "choice", vocabulary=SINCE),
        Question("danger_now", N_("Is the child in danger right now?"), "radio", vocabulary=DANGER, required=always,
                 missing=N_("Answer whether the child is in danger right now."),
                 variants={YOUNG: {"vocabulary": YOUNG_DANGER,
                                   # Translators: familiar register (tu)
                                   "label": N_("Are you in danger right now?"),
                                   # Translators: familiar register (tu)
                                   "missing": N_("Answer whether you are in danger right now.")},
                           YOUNG_FRIEND: {"vocabulary": YOUNG_FRIEND_DANGER,
                                          # Translators: familiar register (tu)
                                          "label": N_("Are they in danger right now?"),
                                          # Translators: familiar register (tu)
                                          "missing": N_("Answer whether they are in danger right now.")}}),
    ), variants={YOUNG: {"title": N_("What is happening"),
                         # Translators: familiar register (tu)
                         "notice": N_("You can also talk to someone now: call the 119 (free, day and night, it does not show on the phone bill) or chat on allo119.gouv.fr. If you can, call from a place where you feel safe.")}},
        then=lambda section: URGENT if section.get("danger_now") == "yes" else None),
    URGENT: Step(URGENT, None, N_("Call now if the child is in danger"), kind="notice",
                 notice=N_("A child in danger right now needs help now"),
                 intro=N_("Once the child is safe, or if you have already called, you can finish your report. It is marked as urgent."),
                 # Translators: familiar register (tu)
                 variants={YOUNG: {"title": N_("Call now if you are in danger"),
                                   # Translators: familiar register (tu)
                                   "notice": N_("If you are in danger right now, you need help now"),
                                   # Translators: familiar register (tu)
                                   "intro": N_("When you are safe, or if you have already called, you can finish your message. It is marked as urgent.")},
                           # Translators: familiar register (tu)
                           YOUNG_FRIEND: {"title": N_("Call now if they are in danger"),
                                          # Translators: familiar register (tu)
                                          "notice": N_("If they are in danger right now, they need help now"),
                                          # Translators: familiar register (tu)
                                          "intro": N_("When they are safe, or if you have already called, you can finish your message. It is marked as urgent.")}}),
    PRO: Step(PRO, "pro", N_("Professional transmission"), (
        Question("establishment", N_("Establishment or service"), required=always, max_length=200,
                 missing=N_("Enter your establishment or service."), box=ESTABLISHMENT,
                 attrs={"autocomplete": "organization"}),
        Question("establishment_address", N_("Address of the establishment"), max_length=300, box=ESTABLISHMENT,
                 attrs={"autocomplete": "street-address"}),
        Question("head_name", N_("Name of the head of the school"), max_length=SHORT, box=ESTABLISHMENT,
                 shown=equals("sector", "school", root=True)),
        Question("author_name", N_("Your name"), required=always, max_length=SHORT, missing=N_("Enter your name."),
                 box=ESTABLISHMENT, attrs={"autocomplete": "name"}),
        Question("author_role", N_("Your role"), required=always, max_length=SHORT, missing=N_("Enter your role."),
                 hint=N_("For example: head teacher, school nurse, social worker."), box=ESTABLISHMENT,
                 attrs={"autocomplete": "organization-title"}),
        Question("author_phone", N_("Professional phone"), "tel", max_length=30, box=ESTABLISHMENT,
                 required=empty("author_email"),
                 missing=N_("Give a phone number or an e-mail address so the CRIP can reach you.")),
        Question("author_email", N_("Professional e-mail"), "email", max_length=200, box=ESTABLISHMENT, optional=False),
        Question("facts", N_("Facts observed, each with its date"), "facts", required=always, check=_facts_have_words,
                 missing=N_("Describe at least one fact, with its date if you know it.")),
        Question("child_spoke_on", N_("When did the child speak?"), "date", box=CHILD_SAID),
        Question("child_spoke_how", N_("How did the child speak, and to whom?"), "long", box=CHILD_SAID,
                 hint=N_("For example: alone with the school nurse, after a class; spontaneously or when asked."),
                 attrs={"rows": 3}),
        Question("child_words", N_("The child's own words"), "long", box=CHILD_SAID,
                 hint=N_("Write them exactly as said, in quotation marks, without interpreting.")),
        Question("parental_authority", N_("Who holds parental authority?"), "choice", vocabulary=PARENTAL_AUTHORITY,
                 box=FAMILY),
        Question("context", N_("Family and social context"), "long", box=FAMILY),
        Question("other_services", N_("Other services already involved"), "long", box=FAMILY,
                 hint=N_("For example: social worker of the département, PMI, a doctor, an educational measure."),
                 attrs={"rows": 3}),
        Question("actions", N_("Actions already taken"), "long", box=FAMILY),
        Question("parents_told", N_("Were the parents told about this report?"), "radio", vocabulary=YES_NO,
                 required=always, missing=N_("Say whether the parents were told.")),
        Question("parents_not_told_why", N_("Why were the parents not told?"), "long",
                 hint=N_("For example: telling them would put the child at risk."), attrs={"rows": 3},
                 shown=equals("parents_told", "no"), required=always,
                 missing=N_("Explain why the parents were not told.")),
        Question("hierarchy_copy", N_("Is a copy sent to your hierarchy (for schools: IEN or DASEN)?"), "radio",
                 vocabulary=YES_NO, required=always, missing=N_("Say whether a copy is sent to your hierarchy.")),
        Question("signalement", N_("Has a signalement been sent to the procureur de la République?"), "radio",
                 vocabulary=SIGNALEMENT, required=always,
                 missing=N_("Say whether a signalement was sent to the procureur.")),
    ), intro=N_("The questions follow the transmission form used in schools (Éducation nationale). The CRIP will tell you what follows your report.")),
    SENDER: Step(SENDER, "sender", N_("About you"), (
        Question("anonymous", N_("Do you want to give your name?"), "radio", vocabulary=ANONYMOUS,
                 required=not_path(PROFESSIONAL), shown=not_path(PROFESSIONAL),
                 missing=N_("Choose whether you give your name."),
                 # Translators: familiar register (tu)
                 variants={YOUNG: {"default": "yes", "label": N_("Do you want to tell us your name?"),
                                   # Translators: familiar register (tu)
                                   "missing": N_("Choose whether you tell us your name.")},
                           ELECTED: {"default": "no"}}),        # owed feedback (L226-5): named by default
        Question("name", N_("Your name"), max_length=SHORT, shown=equals("anonymous", "no"), required=always,
                 missing=N_("Enter your name, or choose to stay anonymous."), box=CONTACT,
                 attrs={"autocomplete": "name"},
                 # Translators: familiar register (tu)
                 variants={YOUNG: {"label": N_("What should we call you?"),
                                   # Translators: familiar register (tu)
                                   "missing": N_("Write your name, or choose not to give it.")}}),
        Question("relation", N_("Your relation to the child"), "choice", vocabulary=SENDER_RELATIONS,
                 shown=equals("anonymous", "no"), box=CONTACT, variants={YOUNG: {"asked": False}}),
        Question("phone", N_("Phone"), "tel", max_length=30, shown=equals("anonymous", "no"), box=CONTACT,
                 required=empty("email"),
                 missing=N_("Give a phone number or an e-mail address, or choose to stay anonymous."),
                 # Translators: familiar register (tu)
                 variants={YOUNG: {"missing": N_("Give a phone number or an e-mail address, or choose not to give your name.")}}),
        Question("email", N_("E-mail"), "email", max_length=200, shown=equals("anonymous", "no"), box=CONTACT,
                 optional=False),
        Question("contact_language", N_("Language you prefer to be contacted in"), "choice",
                 vocabulary=LANGUAGE_NAMES, placeholder=None, default=LOCALE,
                 # Translators: familiar register (tu)
                 variants={YOUNG: {"label": N_("The language you prefer us to use with you")}}),
        Question("wants_feedback", N_("I would like to know what follows my report"), "bool",
                 hint=N_("The CRIP answers within 3 months, as far as the child's interest and professional secrecy allow."),
                 shown=not_path(PROFESSIONAL),
                 # Translators: familiar register (tu)
                 variants={YOUNG: {"hint": N_("The team answers within 3 months and tells you what it can.")}}),
    ), intro=N_("You may stay anonymous. If you give a way to reach you, the team can ask you questions, which often helps the child."),
        # Translators: familiar register (tu)
        variants={YOUNG: {"title": N_("How to reach you"),
                          # Translators: familiar register (tu)
                          "intro": N_("You don't have to give your name. If you give a way to reach you, the team can talk with you, which often helps.")},
                  PROFESSIONAL: {"intro": N_("Your professional contact details were given on the previous page. As a professional, you will be told what follows your report.")}}),
    FILES: Step(FILES, None, N_("Documents"), kind="files",
                intro=N_("You can attach up to %(n)s files of up to %(size)s each: PDF, photos (JPEG, PNG, WebP), Word or OpenDocument texts, text files. Location and camera details are removed from photos."),
                hint=N_("“Continue” attaches the file you chose, if any; “Attach this file” attaches it and lets you add another."),
                # Translators: familiar register (tu)
                variants={YOUNG: {"intro": N_("You can add up to %(n)s files of up to %(size)s each: photos, PDF or texts. Where and when a photo was taken is removed from it."),
                                  # Translators: familiar register (tu)
                                  "hint": N_("“Continue” adds the file you chose, if any; “Attach this file” adds it and lets you add another.")}}),
}
# The pages around the steps (check, confirmation) in a path's own words: shared text -> its variant.
REWORDED = {
    YOUNG: {
        # Translators: familiar register (tu)
        N_("Check your answers before sending"): N_("Check what you wrote before sending"),
        N_("When you send, your report goes to %(cell)s. You will get a reference and a private follow-up code."):
            # Translators: familiar register (tu)
            N_("When you send, your message goes to %(cell)s. You will get a reference and a secret code to follow it."),
        # Translators: familiar register (tu)
        N_("Your report has been sent"): N_("Your message has been sent"),
        # Translators: familiar register (tu)
        N_("Your private follow-up code"): N_("Your secret follow-up code"),
        N_("With the reference and this code you can read the team's questions and answer them, add information or documents, and see where your report stands."):
            # Translators: familiar register (tu)
            N_("With the reference and this code you can read the team's questions, answer them, add something, and see where your message stands."),
        N_("This code is shown only once. We cannot send it again: write it down now."):
            # Translators: familiar register (tu)
            N_("This code is shown only once. We cannot send it to you again: write it down now."),
        N_("Keep it where the person you are worried about cannot find it. Do not keep it in a phone or a notebook that someone else reads."):
            # Translators: familiar register (tu)
            N_("Keep it where nobody else can find it: not in a phone or a notebook that someone else reads."),
        N_("It may ask you questions through the follow-up page, or call you if you gave your number."):
            # Translators: familiar register (tu)
            N_("The team may ask you questions on the follow-up page, or call you if you gave your number."),
        N_("If needed, social workers assess the child's situation, within 3 months at most and sooner for young children."):
            # Translators: familiar register (tu)
            N_("If needed, social workers look into the situation, within 3 months at most."),
        N_("Professionals and elected officials are told what followed within 3 months of sending. Other senders can ask through the follow-up page, and are answered within 3 months of asking."):
            # Translators: familiar register (tu)
            N_("You can ask what followed on the follow-up page: the team answers within 3 months of your question."),
    },
}


def reworded(msgid: str, variant: str) -> str:
    """A shared page's text in the words of a path (the young person's), else as it is."""
    return _pick(REWORDED, variant, msgid, msgid)


# Vocabularies whose labels are names in themselves, not message ids.
UNTRANSLATED = (LANGUAGE_NAMES,)
# Every vocabulary a label test must cover.
VOCABULARIES = (SOURCES, SECTORS, SEXES, AGE_BANDS, LIVES_WITH, CATEGORIES, YOUNG_WORRIES, SINCE, DANGER,
                YOUNG_DANGER, YOUNG_FRIEND_WORRIES, YOUNG_FRIEND_DANGER, ABOUT, YOUNG_SEXES, RELATIONS,
                SENDER_RELATIONS, YES_NO, SIGNALEMENT, ANONYMOUS, PARENTAL_AUTHORITY)


def question(step: str, key: str) -> Question:
    return next(q for q in STEPS[step].questions if q.key == key)


def is_shown(q: Question, section: dict, answers: dict) -> bool:
    return q.asked_by(audience(answers)) and bool(q.shown(section or {}, answers or {}))


def conditions(step: str, path: str, section: dict, answers: dict) -> dict:
    """For a step's conditional questions: key -> (shown now, "key=value" the browser can watch)."""
    out = {}
    for q in STEPS[step].asked(audience(answers, path) if path == path_of(answers) else path):
        if q.shown is not always:
            out[q.key] = (is_shown(q, section, answers), getattr(q.shown, "in_page", None))
    return out


def is_required(q: Question, section: dict, answers: dict) -> bool:
    return is_shown(q, section, answers) and bool(q.required(section or {}, answers or {}))


def is_empty(q: Question, value) -> bool:
    if q.kind == "facts":
        return not any((fact.get("what") or "").strip() for fact in value or [])
    if q.kind in ("multi",):
        return not value
    if q.kind == "bool":
        return not value
    return value is None or not str(value).strip()


def problems(step: Step, variant: str, section: dict, answers: dict) -> dict:
    """What the declaration refuses in a step's answers: key -> message id (the first problem of each)."""
    found = {}
    for q in step.asked(variant):
        if not is_shown(q, section, answers):
            continue
        if is_required(q, section, answers) and is_empty(q, section.get(q.key)):
            found[q.key] = q.text("missing", variant) or N_("This field is required.")
        elif q.check is not None:
            wrong = q.check(section, answers)
            if wrong:
                found[q.key] = wrong
    return found


def steps_of(answers: dict) -> list:
    """The steps a report goes through, in order: its path, without the steps it skips."""
    return [slug for slug in PATHS[path_of(answers)] if STEPS[slug].shown is None or STEPS[slug].shown(answers)]


def next_step(answers: dict, slug: str, section: dict | None = None) -> str | None:
    """The step after `slug` for these answers (None: the check page)."""
    step = STEPS.get(slug)
    detour = step.then(section or {}) if step is not None and step.then is not None else None
    if detour:
        return detour
    order = steps_of(answers)
    if slug == URGENT:
        slug = CONCERN
    idx = order.index(slug) if slug in order else 0
    return order[idx + 1] if idx + 1 < len(order) else None


def previous_step(answers: dict, slug: str) -> str | None:
    """The step before `slug` (None: the start page)."""
    if slug == URGENT:
        return CONCERN
    order = steps_of(answers)
    if slug not in order or order.index(slug) == 0:
        return None
    return order[order.index(slug) - 1]


# --- Reading answers ------------------------------------------------------------------------------

@lru_cache(maxsize=16)
def translations(locale: str):
    try:
        return Translations.load(str(TRANSLATIONS), [locale])
    except (OSError, ValueError):
        return NullTranslations()


def format_day(value, locale: str) -> str | None:
    """A date as people write it: 29/11/2026 in French, Babel's medium form elsewhere."""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            return None
    if not isinstance(value, date):
        return None
    return format_date(value, "short" if locale.startswith("fr") else "medium", locale=locale)


def format_moment(value: datetime, locale: str, tz: str = "Europe/Paris") -> str:
    fmt = "dd/MM/y HH:mm" if locale.startswith("fr") else "medium"
    return format_datetime(value, fmt, tzinfo=tz, locale=locale)


def clean_text(text) -> str:
    """What someone typed, with their line breaks kept and runs of blank lines reduced to one."""
    text = str(text or "").replace("\r\n", "\n").replace("\r", "\n")
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


@dataclass(frozen=True)
class Row:
    key: str            # the question (or group), to find the row again; never shown
    label: str
    value: str          # words; DASH when not answered
    step: str
    n: int | None = None
    multiline: bool = False

    @property
    def answered(self) -> bool:
        return self.value != DASH


@dataclass(frozen=True)
class Section:
    title: str
    step: str
    rows: tuple
    n: int | None = None


class _Reader:
    """Reads answers in words. `path`: the variant the report was asked in (which questions it holds);
    `words`: the variant whose labels it is read with (the CRIP reads a young person's report with
    third-person questions: "Date of birth", not "Your date of birth"; the answers stay the words
    the young person chose: "Someone hits me or hurts me")."""

    def __init__(self, locale: str, path: str, words: str | None = None):
        self.locale, self.path, self.words = locale, path, words or path
        self.t = translations(locale)

    def _(self, msgid: str, **variables) -> str:
        text = self.t.gettext(msgid)
        return text % variables if variables else text

    def value(self, q: Question, section: dict) -> str | None:
        raw = section.get(q.key)
        vocabulary = q.vocabulary_for(self.path)     # the answer as the sender chose it, in their words
        if q.kind in ("choice", "radio"):
            label = vocabulary.label(raw) if raw not in (None, "") else None
            if label is None:
                return None
            return label if vocabulary in UNTRANSLATED else self._(label)
        if q.kind == "multi":
            labels = [vocabulary.label(code) for code in (raw or [])]
            return ", ".join(self._(label) for label in labels if label) or None
        if q.kind == "bool":
            return self._("Yes") if raw in (True, "y", "yes") else self._("No")
        if q.kind == "date":
            return format_day(raw, self.locale)
        if q.kind == "int":
            return str(raw) if isinstance(raw, int) or (isinstance(raw, str) and raw.strip().isdigit()) else None
        text = clean_text(raw)
        return text or None

    def rows(self, step: Step, section: dict, answers: dict, n=None) -> list:
        out, groups = [], {}
        for q in step.asked(self.path):
            if not is_shown(q, section, answers):
                continue
            if q.kind == "facts":
                out.extend(self.facts(q, section, step.slug))
                continue
            if q.kind == "place":
                out.append(Row(q.group, self._(q.text("summary_label", self.words)), self.place(q, section),
                               step.slug, n))
                continue
            value = self.value(q, section)
            if q.group:
                if q.group not in groups:
                    groups[q.group] = len(out)
                    out.append(Row(q.group, self._(q.text("summary_label", self.words) or q.text("label", self.words)),
                                   "", step.slug, n))
                if value:
                    row = out[groups[q.group]]
                    joiner = " " if q.group == "child_name" else " – "
                    joined = f"{row.value}{joiner}{value}" if row.value else value
                    out[groups[q.group]] = Row(row.key, row.label, joined, row.step, n)
                continue
            out.append(Row(q.key, self._(q.text("summary_label", self.words) or q.text("label", self.words)),
                           value or DASH, step.slug, n, multiline=q.kind == "long" and bool(value)))
        return [r if r.value else Row(r.key, r.label, DASH, r.step, r.n) for r in out]

    def place(self, q: Question, child: dict) -> str:
        if child.get("postcode"):
            return " ".join(p for p in (child.get("postcode"), child.get("commune_name")) if p)
        if child.get("postcode_unknown"):
            return self._(q.text("unknown_label", self.words))
        return DASH

    def facts(self, q: Question, section: dict, slug: str) -> list:
        rows = []
        for fact in section.get(q.key) or []:
            what = clean_text(fact.get("what"))
            if not what:
                continue
            when = format_day(fact.get("when"), self.locale)
            rows.append(Row(f"fact{len(rows) + 1}", self._("Fact %(n)s", n=len(rows) + 1),
                            f"{when} – {what}" if when else what, slug, multiline=True))
        return rows or [Row("facts", self._(q.label), DASH, slug)]


def summary(answers: dict, path: str | None = None, locale: str = "fr", *, files=None,
            for_crip: bool = False) -> list:
    """The report as labelled rows, section by section, in the reader's language.

    `answers`: the report as the form keeps it (children inside). `files`: names of attachments,
    or None not to show a documents section. The sender reads the questions as they were asked;
    with `for_crip`, a young person's report is read in the third person (the public path's labels)."""
    answers = answers or {}
    path = path if path in PATHS else path_of(answers)
    variant = audience(answers, path)
    reader = _Reader(locale, variant, PUBLIC if for_crip and base_path(variant) == YOUNG else variant)
    variant = reader.words
    sections = []
    for slug in PATHS[path]:
        step = STEPS[slug]
        if slug == CHILD:
            for i, child in enumerate(answers.get("children") or []):
                title = reader._(step.title_for(variant)) if len(answers.get("children")) == 1 \
                    else reader._("Child %(n)s", n=i + 1)
                sections.append(Section(title, slug, tuple(reader.rows(step, child, answers, i)), i))
            continue
        if slug == FILES:
            if files is not None:
                names = ", ".join(files) or DASH
                sections.append(Section(reader._("Documents"), slug,
                                        (Row("files", reader._("Attached files"), names, slug),)))
            continue
        if step.kind != "questions":
            continue
        section = answers if step.section is None else (answers.get(step.section) or {})
        if step.section is not None and step.section not in answers:
            continue
        rows = reader.rows(step, section, answers)
        if rows:
            sections.append(Section(reader._(step.title_for(variant)), slug, tuple(rows)))
    return sections


def child_age_text(child: dict, locale: str = "fr", today: date | None = None) -> str | None:
    """How old a child is, in words: from the date of birth, the age, or the band chosen."""
    reader = _Reader(locale, PUBLIC)
    if child.get("birth_date"):
        shown = format_day(child["birth_date"], locale)
        if shown:
            return reader._("born on %(date)s", date=shown)
    if child.get("age") not in (None, ""):
        return reader._("%(n)s years old", n=child["age"])
    label = AGE_BANDS.label(child.get("age_estimate"))
    return reader._(label) if label and child.get("age_estimate") != "unknown" else None
