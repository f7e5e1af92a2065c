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


def path_of(answers: dict) -> str:
    source = (answers or {}).get("source_type")
    return source if source in PATHS else PUBLIC


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

@dataclass(frozen=True)
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


def not_path(path: str) -> Callable:
    return lambda _section, answers: path_of(answers) != path


@dataclass(frozen=True)
class Question:
    key: str
    label: str                              # message id
    kind: str = "text"                      # text long date int choice radio multi bool facts
    hint: str | None = None
    vocabulary: Vocabulary | None = None
    shown: Callable = always                # asked (and summarised) only when this holds
    required: Callable = never              # must be answered when shown and this holds
    paths: tuple = tuple(PATHS)             # the paths that ask it
    variants: dict = field(default_factory=dict)   # path -> {"label"|"hint"|"vocabulary": ...}
    group: str | None = None                # consecutive questions of one group read as one summary row
    summary_label: str | None = None        # the label in a summary, when not the question itself
    max_length: int | None = None

    def text(self, what: str, path: str):
        return self.variants.get(path, {}).get(what, getattr(self, what))

    def vocabulary_for(self, path: str) -> Vocabulary | None:
        return self.text("vocabulary", path)


@dataclass(frozen=True)
class Step:
    slug: str
    section: str | None         # where its answers live in the report ("children" is a list)
    title: str
    questions: tuple = ()
    variants: dict = field(default_factory=dict)

    def title_for(self, path: str) -> str:
        return self.variants.get(path, {}).get("title", self.title)

    def asked(self, path: str):
        return [q for q in self.questions if path in q.paths]


SHORT, LONG = 120, 20000
YOUNG_ONLY = (YOUNG,)
NOT_YOUNG = (PUBLIC, PROFESSIONAL, ELECTED)
PRO_ONLY = (PROFESSIONAL,)

STEPS = {
    WHO: Step(WHO, None, N_("Who are you?"), (
        Question("source_type", N_("Who are you?"), "radio", vocabulary=SOURCES, required=always),
        Question("sector", N_("Your sector"), "choice", vocabulary=SECTORS,
                 shown=equals("source_type", PROFESSIONAL), required=always),
    )),
    CHILD: Step(CHILD, "children", N_("About the child"), (
        Question("first_name", N_("First name"), hint=N_("Leave empty if you don't know."), max_length=SHORT,
                 group="child_name", summary_label=N_("Name"),
                 variants={YOUNG: {"hint": N_("Of you, or of your friend. You can leave it empty.")}}),
        Question("last_name", N_("Last name"), hint=N_("Leave empty if you don't know."), max_length=SHORT,
                 group="child_name"),
        Question("birth_date", N_("Date of birth"), "date", hint=N_("If you know it.")),
        Question("age", N_("Age in years"), "int", hint=N_("If you don't know the date of birth.")),
        Question("age_estimate", N_("Approximate age"), "choice", vocabulary=AGE_BANDS,
                 hint=N_("If you know neither the date of birth nor the age.")),
        Question("sex", N_("Sex"), "radio", vocabulary=SEXES),
        Question("school", N_("School and class"), hint=N_("For example: École Jules Ferry, CE2."),
                 paths=NOT_YOUNG, max_length=SHORT),
        Question("postcode", N_("Postcode where the child lives"), group="place",
                 hint=N_("5 digits, for example 31000. Used to send your report to the right team."),
                 summary_label=N_("Where the child lives"),
                 variants={YOUNG: {"summary_label": N_("Where you live")}}),
        Question("address", N_("Address"), hint=N_("If you know it: street and number."), max_length=300),
        Question("lives_with", N_("Who does the child live with?"), "choice", vocabulary=LIVES_WITH, paths=NOT_YOUNG),
    ), variants={YOUNG: {"title": N_("About you or your friend")}}),
    ADULTS: Step(ADULTS, "adults", N_("Adults concerned"), (
        Question("adult1_name", N_("Name"), group="adult1", summary_label=N_("First adult"), max_length=SHORT),
        Question("adult1_relation", N_("Relation to the child"), "choice", vocabulary=RELATIONS, group="adult1"),
        Question("adult1_contact", N_("Address or phone, if known"), group="adult1", max_length=300),
        Question("adult2_name", N_("Name"), group="adult2", summary_label=N_("Second adult"), max_length=SHORT),
        Question("adult2_relation", N_("Relation to the child"), "choice", vocabulary=RELATIONS, group="adult2"),
        Question("adult2_contact", N_("Address or phone, if known"), group="adult2", max_length=300),
        Question("others", N_("Other adults or children in the household"), "long",
                 hint=N_("For example brothers and sisters, a partner, grandparents.")),
    ), ),
    CONCERN: Step(CONCERN, "concern", N_("What worries you"), (
        Question("categories", N_("What worries you?"), "multi", vocabulary=CATEGORIES, required=always,
                 variants={YOUNG: {"vocabulary": YOUNG_WORRIES,
                                   # Translators: familiar register (tu)
                                   "label": N_("What is happening to you?")}}),
        Question("account", N_("Describe what you saw, heard or were told"), "long",
                 hint=N_("Facts, with dates if you have them, and who told you. Write in your own language if you prefer."),
                 required=not_path(PROFESSIONAL),
                 variants={YOUNG: {"label": N_("What is happening?"),
                                   "hint": N_("Write it as you would say it. Short is fine.")},
                           PROFESSIONAL: {"label": N_("Anything the dated facts do not say"),
                                          "hint": N_("The facts, each with its date, are asked on the next page: write here only what they do not carry.")}}),
        Question("since", N_("Since when?"), "choice", vocabulary=SINCE),
        Question("danger_now", N_("Is the child in danger right now?"), "radio", vocabulary=DANGER, required=always,
                 variants={YOUNG: {"vocabulary": YOUNG_DANGER,
                                   # Translators: familiar register (tu)
                                   "label": N_("Are you in danger right now?")}}),
    )),
    PRO: Step(PRO, "pro", N_("Professional transmission"), (
        Question("establishment", N_("Establishment or service"), required=always, max_length=200),
        Question("establishment_address", N_("Address of the establishment"), max_length=300),
        Question("head_name", N_("Name of the head of the school"), max_length=SHORT,
                 shown=equals("sector", "school", root=True)),
        Question("author_name", N_("Your name"), required=always, max_length=SHORT),
        Question("author_role", N_("Your role"), required=always, max_length=SHORT,
                 hint=N_("For example: head teacher, school nurse, social worker.")),
        Question("author_phone", N_("Professional phone"), max_length=30),
        Question("author_email", N_("Professional e-mail"), max_length=200),
        Question("facts", N_("Facts observed, each with its date"), "facts", required=always),
        Question("child_spoke_on", N_("When did the child speak?"), "date"),
        Question("child_spoke_how", N_("How did the child speak, and to whom?"), "long",
                 hint=N_("For example: alone with the school nurse, after a class; spontaneously or when asked.")),
        Question("child_words", N_("The child's own words"), "long",
                 hint=N_("Write them exactly as said, in quotation marks, without interpreting.")),
        Question("parental_authority", N_("Who holds parental authority?"), "choice", vocabulary=PARENTAL_AUTHORITY),
        Question("context", N_("Family and social context"), "long"),
        Question("other_services", N_("Other services already involved"), "long",
                 hint=N_("For example: social worker of the département, PMI, a doctor, an educational measure.")),
        Question("actions", N_("Actions already taken"), "long"),
        Question("parents_told", N_("Were the parents told about this report?"), "radio", vocabulary=YES_NO,
                 required=always),
        Question("parents_not_told_why", N_("Why were the parents not told?"), "long",
                 hint=N_("For example: telling them would put the child at risk."),
                 shown=equals("parents_told", "no"), required=always),
        Question("hierarchy_copy", N_("Is a copy sent to your hierarchy (for schools: IEN or DASEN)?"), "radio",
                 vocabulary=YES_NO, required=always),
        Question("signalement", N_("Has a signalement been sent to the procureur de la République?"), "radio",
                 vocabulary=SIGNALEMENT, required=always),
    )),
    SENDER: Step(SENDER, "sender", N_("About you"), (
        Question("anonymous", N_("Do you want to give your name?"), "radio", vocabulary=ANONYMOUS,
                 required=not_path(PROFESSIONAL),
                 shown=not_path(PROFESSIONAL)),
        Question("name", N_("Your name"), max_length=SHORT, shown=equals("anonymous", "no"), required=always),
        Question("relation", N_("Your relation to the child"), "choice", vocabulary=SENDER_RELATIONS,
                 shown=equals("anonymous", "no")),
        Question("phone", N_("Phone"), max_length=30, shown=equals("anonymous", "no")),
        Question("email", N_("E-mail"), max_length=200, shown=equals("anonymous", "no")),
        Question("contact_language", N_("Language you prefer to be contacted in"), "choice",
                 vocabulary=LANGUAGE_NAMES),
        Question("wants_feedback", N_("I would like to know what follows my report"), "bool",
                 hint=N_("The CRIP answers within 3 months, as far as the child's interest and professional secrecy allow."),
                 shown=not_path(PROFESSIONAL)),
    )),
}
# Vocabularies whose labels are names in themselves, not message ids.
UNTRANSLATED = (LANGUAGE_NAMES,)
# Every vocabulary a label test must cover.
VOCABULARIES = (SOURCES, SECTORS, SEXES, AGE_BANDS, LIVES_WITH, CATEGORIES, YOUNG_WORRIES, SINCE, DANGER,
                YOUNG_DANGER, RELATIONS, SENDER_RELATIONS, YES_NO, SIGNALEMENT, ANONYMOUS, PARENTAL_AUTHORITY)


def question(step: str, key: str) -> Question:
    return next(q for q in STEPS[step].questions if q.key == key)


def is_shown(q: Question, section: dict, answers: dict) -> bool:
    return path_of(answers) in q.paths and bool(q.shown(section or {}, answers or {}))


def conditions(step: str, path: str, section: dict, answers: dict) -> dict:
    """For a step's conditional questions: key -> (shown now, "key=value" the browser can watch)."""
    out = {}
    for q in STEPS[step].asked(path):
        if q.shown is not always:
            out[q.key] = (is_shown(q, section, answers), getattr(q.shown, "in_page", None))
    return out


def is_required(q: Question, section: dict, answers: dict) -> bool:
    return is_shown(q, section, answers) and bool(q.required(section or {}, answers or {}))


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
    def __init__(self, locale: str, path: str):
        self.locale, self.path = locale, path
        self.t = translations(locale)

    def _(self, msgid: str, **variables) -> str:
        text = self.t.gettext(msgid)
        return text % variables if variables else text

    def value(self, q: Question, section: dict) -> str | None:
        raw = section.get(q.key)
        vocabulary = q.vocabulary_for(self.path)
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
            if q.key == "postcode":
                out.append(Row(q.group, self._(q.text("summary_label", self.path)), self.place(section),
                               step.slug, n))
                continue
            value = self.value(q, section)
            if q.group:
                if q.group not in groups:
                    groups[q.group] = len(out)
                    out.append(Row(q.group, self._(q.summary_label or q.label), "", step.slug, n))
                if value:
                    row = out[groups[q.group]]
                    joiner = " " if q.group == "child_name" else " – "
                    joined = f"{row.value}{joiner}{value}" if row.value else value
                    out[groups[q.group]] = Row(row.key, row.label, joined, row.step, n)
                continue
            out.append(Row(q.key, self._(q.text("summary_label", self.path) or q.text("label", self.path)),
                           value or DASH, step.slug, n, multiline=q.kind == "long" and bool(value)))
        return [r if r.value else Row(r.key, r.label, DASH, r.step, r.n) for r in out]

    def place(self, child: dict) -> str:
        if child.get("postcode"):
            return " ".join(p for p in (child.get("postcode"), child.get("commune_name")) if p)
        if child.get("postcode_unknown"):
            return self._("I don't know where the child lives")
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


def summary(answers: dict, path: str | None = None, locale: str = "fr", *, files=None) -> list:
    """The report as labelled rows, section by section, in the reader's language.

    `answers`: the report as the form keeps it (children inside). `files`: names of attachments,
    or None not to show a documents section."""
    answers = answers or {}
    path = path if path in PATHS else path_of(answers)
    reader = _Reader(locale, path)
    sections = []
    for slug in PATHS[path]:
        step = STEPS.get(slug)
        if slug == CHILD:
            for i, child in enumerate(answers.get("children") or []):
                title = reader._(step.title_for(path)) if len(answers.get("children")) == 1 \
                    else reader._("Child %(n)s", n=i + 1)
                sections.append(Section(title, slug, tuple(reader.rows(step, child, answers, i)), i))
            continue
        if slug == FILES:
            if files is not None:
                names = ", ".join(files) or DASH
                sections.append(Section(reader._("Documents"), slug,
                                        (Row("files", reader._("Attached files"), names, slug),)))
            continue
        if step is None:
            continue
        section = answers if step.section is None else (answers.get(step.section) or {})
        if step.section is not None and step.section not in answers:
            continue
        rows = reader.rows(step, section, answers)
        if rows:
            sections.append(Section(reader._(step.title_for(path)), slug, tuple(rows)))
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
