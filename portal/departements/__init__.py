"""Département profiles: one TOML file per département, validated when the app starts.

A profile is plain data (no Flask): the département's name, its IP cell, the CRIP's phone lines
and opening hours, contacts, territories and key figures (each with its year and source).
`load_profiles()` raises ProfileError naming the file and the field when anything is missing
or malformed, so a bad profile stops start-up instead of showing wrong numbers to the public.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path

from ..domain.priority import Deadlines

HERE = Path(__file__).resolve().parent
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CODE = re.compile(r"^(0[1-9]|[1-8][0-9]|9[0-5]|2A|2B|97[1-6])$")
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
_SLOT = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])-([01][0-9]|2[0-4]):([0-5][0-9])$")
_PHONE = re.compile(r"^[0-9 +]{3,20}$")
NATIONAL_NUMBERS = ("119", "17", "112", "114", "15", "18", "115", "3919")

# The Département's own deadlines (profile table `[deadlines]`): no decree sets these numbers.
# The law sets only the 3 months of the evaluation (CASF D226-2-4, décret n° 2016-1476), "reduced
# according to the danger and the child's age, in particular under 2".
DEADLINE_DEFAULTS = {
    "under_2_days": 30,            # evaluation of a child under 2 (calendar days)
    "urgent_days": 15,             # evaluation when the danger is immediate (calendar days)
    "analysis_working_days": 1,    # first analysis by the CRIP (working days)
}
_DEADLINE_LIMITS = {"under_2_days": (1, 92), "urgent_days": (1, 92), "analysis_working_days": (1, 20)}


class ProfileError(ValueError):
    """A profile file is missing a field or has a malformed one."""

    def __init__(self, path, field_name, problem):
        self.path, self.field, self.problem = Path(path), field_name, problem
        super().__init__(f"{Path(path).name}: field '{field_name}': {problem}")


PHONE_ROLES = ("crip", "ase", "other")


@dataclass(frozen=True)
class Phone:
    number: str
    label: str          # English msgid, translated at display
    role: str = "other"  # "crip": the IP cell's own line; "ase": the child welfare service; "other"
    free: bool = False
    hours: dict = field(default_factory=dict)   # day -> [(time, time)], empty when unknown
    outside_hours: str = ""                     # "119" when calls are transferred to the 119

    @property
    def tel(self) -> str:
        digits = self.number.replace(" ", "")
        return "+33" + digits[1:] if digits.startswith("0") and len(digits) == 10 else digits

    @property
    def has_hours(self) -> bool:
        return bool(self.hours)


@dataclass(frozen=True)
class Figure:
    value: float
    label: str          # English msgid, translated at display
    year: int
    source: str
    unit: str = ""      # "", "%", "M€"
    as_of: str = ""     # e.g. "1 January"; English msgid


@dataclass(frozen=True)
class Territory:
    code: str
    name: str
    arrondissements: tuple = ()   # INSEE arrondissement codes it covers
    postcodes: tuple = ()         # postcodes it covers (alternative to arrondissements)
    default: bool = False
    source: str = ""              # where the Département publishes this organisation; without
                                  # one the territory is internal (routing, back office) only


@dataclass(frozen=True)
class Publication:
    """Who publishes the site and answers for the data (legal notice, privacy notice). Empty
    means "not given": the pages then say the Département must still provide it; production
    refuses to start without it (REQUIRED_IN_PRODUCTION)."""
    controller: str = ""      # the data controller; default: the président of `council`
    director: str = ""        # director of publication (name and office)
    host: str = ""            # host: name, address, phone (LCEN article 6)
    dpo_contact: str = ""     # the data protection officer's address (e-mail, post or web form)


ACCESSIBILITY_STATUSES = ("non-compliant", "partially compliant", "fully compliant")


@dataclass(frozen=True)
class Accessibility:
    """The accessibility statement's facts (RGAA). Lists are English message ids."""
    status: str = "non-compliant"
    statement_date: date | None = None
    audit_date: date | None = None
    audit_by: str = ""
    compliance_rate: float | None = None       # percent of RGAA criteria met, from the audit
    non_accessible: tuple = ()                 # content known not to be accessible
    plan: tuple = ()                           # multi-year plan: ((period, action), ...)
    plan_url: str = ""                         # or where the Département publishes it
    contact: str = ""                          # e-mail or web form for accessibility problems


# What a Département must give before the site goes live (PORTAL_ENV=production).
REQUIRED_IN_PRODUCTION = ("publication.director", "publication.host", "publication.dpo_contact",
                          "accessibility.statement_date", "accessibility.contact", "accessibility.plan")


@dataclass(frozen=True)
class Profile:
    code: str
    name: str
    in_name: str          # "en Haute-Garonne", "dans le Jura": French preposition + name
    council: str
    ip_cell: str
    accent_color: str
    website: str
    phones: tuple
    email: str
    postal_address: str
    territories: tuple
    figures: tuple
    source_file: str
    deadlines: Deadlines = Deadlines(**DEADLINE_DEFAULTS)
    in_names: dict = field(default_factory=dict)   # locale -> "in <name>" phrase ("fr" = in_name)
    publication: Publication = Publication()
    accessibility: Accessibility = Accessibility()

    def missing_for_production(self) -> list[str]:
        """The REQUIRED_IN_PRODUCTION fields this profile leaves empty."""
        missing = []
        for name in REQUIRED_IN_PRODUCTION:
            table, key = name.split(".")
            if key == "plan":
                if not (self.accessibility.plan or self.accessibility.plan_url):
                    missing.append(name)
            elif not getattr(getattr(self, table), key):
                missing.append(name)
        return missing

    @property
    def crip_phone(self):
        """The IP cell's own line, or None: never the 119 nor another service's line."""
        for p in self.phones:
            if p.role == "crip":
                return p
        return None

    @property
    def public_territories(self) -> tuple:
        """The territories the profile sources; the others are never shown to the public."""
        return tuple(t for t in self.territories if t.source)

    def default_territory(self):
        for t in self.territories:
            if t.default:
                return t
        return self.territories[0]


def _need(data, key, path, kind=str, optional=False, where=""):
    name = f"{where}{key}"
    if key not in data:
        if optional:
            return None
        raise ProfileError(path, name, "is missing")
    value = data[key]
    if kind is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    else:
        ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
    if not ok:
        raise ProfileError(path, name, f"must be {kind.__name__}, got {type(value).__name__}")
    if kind is str and not value.strip() and not optional:
        raise ProfileError(path, name, "is empty")
    return value


def _hours(raw, path, where):
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ProfileError(path, where, "must be a table of days")
    hours = {}
    for day, slots in raw.items():
        if day not in DAYS:
            raise ProfileError(path, f"{where}.{day}", f"unknown day (use {', '.join(DAYS)})")
        if not isinstance(slots, list):
            raise ProfileError(path, f"{where}.{day}", "must be a list like [\"08:30-17:00\"]")
        parsed = []
        for slot in slots:
            m = _SLOT.match(slot) if isinstance(slot, str) else None
            if not m:
                raise ProfileError(path, f"{where}.{day}", f"bad slot {slot!r}, expected HH:MM-HH:MM")
            h1, m1, h2, m2 = (int(x) for x in m.groups())
            start = time(h1, m1)
            end = time(23, 59, 59) if h2 == 24 else time(h2, m2)
            if end <= start:
                raise ProfileError(path, f"{where}.{day}", f"slot {slot!r} ends before it starts")
            parsed.append((start, end))
        hours[day] = tuple(parsed)
    return hours


def _deadlines(raw, path) -> Deadlines:
    """The `[deadlines]` table: each key optional (DEADLINE_DEFAULTS), whole days in range."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ProfileError(path, "deadlines", "must be a table")
    unknown = sorted(set(raw) - set(DEADLINE_DEFAULTS))
    if unknown:
        raise ProfileError(path, f"deadlines.{unknown[0]}", f"unknown setting (use {', '.join(DEADLINE_DEFAULTS)})")
    values = dict(DEADLINE_DEFAULTS)
    for key, (low, high) in _DEADLINE_LIMITS.items():
        if key in raw:
            value = _need(raw, key, path, int, where="deadlines.")
            if not low <= value <= high:
                raise ProfileError(path, f"deadlines.{key}", f"must be between {low} and {high}, got {value}")
            values[key] = value
    return Deadlines(**values)


def _table(data, key, path):
    raw = data.get(key, {})
    if not isinstance(raw, dict):
        raise ProfileError(path, key, "must be a table")
    return raw


def _publication(data, path) -> Publication:
    raw = _table(data, "publication", path)
    known = {"controller", "director", "host", "dpo_contact"}
    for key in raw:
        if key not in known:
            raise ProfileError(path, f"publication.{key}", f"unknown field (use {', '.join(sorted(known))})")
    return Publication(**{k: (_need(raw, k, path, optional=True, where="publication.") or "").strip()
                          for k in known})


def _date(raw, key, path, where):
    value = raw.get(key)
    if value is None:
        return None
    if type(value) is not date:
        raise ProfileError(path, where + key, "must be a date written 2026-11-25 (no quotes)")
    return value


def _accessibility(data, path) -> Accessibility:
    raw = _table(data, "accessibility", path)
    w = "accessibility."
    known = {"status", "statement_date", "audit_date", "audit_by", "compliance_rate", "non_accessible",
             "plan", "plan_url", "contact"}
    for key in raw:
        if key not in known:
            raise ProfileError(path, w + key, f"unknown field (use {', '.join(sorted(known))})")
    status = _need(raw, "status", path, optional=True, where=w) or "non-compliant"
    if status not in ACCESSIBILITY_STATUSES:
        raise ProfileError(path, w + "status", f"{status!r} must be one of {', '.join(ACCESSIBILITY_STATUSES)}")
    audit_date = _date(raw, "audit_date", path, w)
    rate = raw.get("compliance_rate")
    if rate is not None:
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 100:
            raise ProfileError(path, w + "compliance_rate", "must be a percentage between 0 and 100")
        if audit_date is None:
            raise ProfileError(path, w + "compliance_rate", "needs the audit_date of the audit that measured it")
    if status != "non-compliant" and audit_date is None:
        raise ProfileError(path, w + "status", f"{status!r} needs an audit (audit_date): without one the "
                           "RGAA status is non-compliant")
    non_accessible = _need(raw, "non_accessible", path, list, optional=True, where=w) or []
    for i, item in enumerate(non_accessible):
        if not isinstance(item, str) or not item.strip():
            raise ProfileError(path, f"{w}non_accessible[{i}]", "must be a sentence")
    plan = []
    for i, item in enumerate(_need(raw, "plan", path, list, optional=True, where=w) or []):
        if not isinstance(item, dict):
            raise ProfileError(path, f"{w}plan[{i}]", "must be a table with period and action")
        plan.append((_need(item, "period", path, where=f"{w}plan[{i}]."),
                     _need(item, "action", path, where=f"{w}plan[{i}].")))
    return Accessibility(
        status=status,
        statement_date=_date(raw, "statement_date", path, w),
        audit_date=audit_date,
        audit_by=_need(raw, "audit_by", path, optional=True, where=w) or "",
        compliance_rate=rate,
        non_accessible=tuple(non_accessible),
        plan=tuple(plan),
        plan_url=_need(raw, "plan_url", path, optional=True, where=w) or "",
        contact=_need(raw, "contact", path, optional=True, where=w) or "",
    )


def parse_profile(path: Path) -> Profile:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(path, "(file)", f"cannot be read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(path, "(file)", f"is not valid TOML: {exc}") from None
    code = _need(data, "code", path)
    if not _CODE.match(code):
        raise ProfileError(path, "code", f"{code!r} is not a département code")
    if path.stem != code:
        raise ProfileError(path, "code", f"{code!r} does not match the file name")
    color = _need(data, "accent_color", path)
    if not _COLOR.match(color):
        raise ProfileError(path, "accent_color", f"{color!r} is not a #rrggbb colour")
    phones = []
    raw_phones = _need(data, "phones", path, list)     # may be empty: no line of its own
    for i, p in enumerate(raw_phones):
        where = f"phones[{i}]."
        if not isinstance(p, dict):
            raise ProfileError(path, f"phones[{i}]", "must be a table")
        number = _need(p, "number", path, where=where)
        if number.replace(" ", "") in NATIONAL_NUMBERS:
            raise ProfileError(path, where + "number",
                               f"{number!r} is a national number, shown on every page by the site "
                               "itself: list only the Département's own lines")
        if not _PHONE.match(number):
            raise ProfileError(path, where + "number", f"{number!r} is not a phone number")
        role = _need(p, "role", path, where=where)
        if role not in PHONE_ROLES:
            raise ProfileError(path, where + "role", f"{role!r} must be one of {', '.join(PHONE_ROLES)}")
        outside = _need(p, "outside_hours", path, optional=True, where=where) or ""
        if outside not in ("", "119"):
            raise ProfileError(path, where + "outside_hours", "must be \"119\" or absent")
        phones.append(Phone(
            number=number,
            label=_need(p, "label", path, where=where),
            role=role,
            free=bool(_need(p, "free", path, bool, optional=True, where=where)),
            hours=_hours(p.get("hours"), path, where + "hours"),
            outside_hours=outside,
        ))
    territories = []
    raw_t = _need(data, "territories", path, list)
    if not raw_t:
        raise ProfileError(path, "territories", "needs at least one territory")
    for i, t in enumerate(raw_t):
        where = f"territories[{i}]."
        if not isinstance(t, dict):
            raise ProfileError(path, f"territories[{i}]", "must be a table")
        arr = _need(t, "arrondissements", path, list, optional=True, where=where) or []
        pcs = _need(t, "postcodes", path, list, optional=True, where=where) or []
        for pc in pcs:
            if not (isinstance(pc, str) and re.fullmatch(r"\d{5}", pc)):
                raise ProfileError(path, where + "postcodes", f"{pc!r} is not a 5-digit postcode")
        territories.append(Territory(
            code=_need(t, "code", path, where=where),
            name=_need(t, "name", path, where=where),
            arrondissements=tuple(str(a) for a in arr),
            postcodes=tuple(pcs),
            default=bool(_need(t, "default", path, bool, optional=True, where=where)),
            source=_need(t, "source", path, optional=True, where=where) or "",
        ))
    if sum(p.role == "crip" for p in phones) > 1:
        raise ProfileError(path, "phones", "only one line can be the IP cell's own (role = \"crip\")")
    if len({t.code for t in territories}) != len(territories):
        raise ProfileError(path, "territories", "territory codes must be unique")
    figures = []
    for i, f in enumerate(_need(data, "figures", path, list, optional=True) or []):
        where = f"figures[{i}]."
        if not isinstance(f, dict):
            raise ProfileError(path, f"figures[{i}]", "must be a table")
        year = _need(f, "year", path, int, where=where)
        if not 1990 <= year <= 2100:
            raise ProfileError(path, where + "year", f"{year} is not a plausible year")
        unit = _need(f, "unit", path, optional=True, where=where) or ""
        if unit not in ("", "%", "M€"):
            raise ProfileError(path, where + "unit", f"{unit!r} must be '', '%' or 'M€'")
        figures.append(Figure(
            value=_need(f, "value", path, float, where=where),
            label=_need(f, "label", path, where=where),
            year=year,
            source=_need(f, "source", path, where=where),
            unit=unit,
            as_of=_need(f, "as_of", path, optional=True, where=where) or "",
        ))
    in_name = _need(data, "in_name", path)
    in_names = {}
    raw_names = _need(data, "in_names", path, dict, optional=True) or {}
    for locale, phrase in raw_names.items():
        if not isinstance(phrase, str) or not phrase.strip():
            raise ProfileError(path, f"in_names.{locale}", "must be a non-empty phrase")
        if not re.fullmatch(r"[a-z]{2,3}", locale):
            raise ProfileError(path, f"in_names.{locale}", "must be keyed by a language code")
        in_names[locale] = phrase
    in_names["fr"] = in_name
    return Profile(
        code=code,
        name=_need(data, "name", path),
        in_name=in_name,
        in_names=in_names,
        publication=_publication(data, path),
        accessibility=_accessibility(data, path),
        council=_need(data, "council", path),
        ip_cell=_need(data, "ip_cell", path),
        accent_color=color,
        website=_need(data, "website", path),
        phones=tuple(phones),
        email=_need(data, "email", path, optional=True) or "",
        postal_address=_need(data, "postal_address", path, optional=True) or "",
        territories=tuple(territories),
        figures=tuple(figures),
        source_file=path.name,
        deadlines=_deadlines(data.get("deadlines"), path),
    )


def shipped_codes(directory: Path = HERE) -> list[str]:
    return sorted(p.stem for p in Path(directory).glob("*.toml"))


def load_profiles(codes=None, directory: Path = HERE, *, production: bool = False) -> dict[str, Profile]:
    """Load and validate the profiles named in `codes` (all shipped ones when empty). In
    production every REQUIRED_IN_PRODUCTION field must be given: the demo profiles leave empty
    what their seeds do not say, and a site must not go live with "to be provided" on its pages."""
    directory = Path(directory)
    available = shipped_codes(directory)
    wanted = list(codes) if codes else available
    profiles = {}
    for code in wanted:
        if code not in available:
            raise ProfileError(directory / f"{code}.toml", "(file)",
                               f"no profile for département {code!r}; shipped: {', '.join(available)}")
        profile = profiles[code] = parse_profile(directory / f"{code}.toml")
        missing = profile.missing_for_production() if production else []
        if missing:
            also = f"; also missing: {', '.join(missing[1:])}" if missing[1:] else ""
            raise ProfileError(directory / f"{code}.toml", missing[0],
                               "is required in production (PORTAL_ENV=production): the Département must "
                               f"provide it{also}")
    if not profiles:
        raise ProfileError(directory, "(directory)", "no département profile found")
    return profiles


def extract_profiles(fileobj, keywords, comment_tags, options):
    """Babel extractor: the English labels in profile files are message ids."""
    data = tomllib.loads(fileobj.read().decode("utf-8"))
    for key in ("phones", "figures"):
        for item in data.get(key, []):
            for attr in ("label", "as_of"):
                if item.get(attr):
                    yield 0, "gettext", item[attr], []
    access = data.get("accessibility", {})
    for item in access.get("non_accessible", []):
        yield 0, "gettext", item, []
    for item in access.get("plan", []):
        for attr in ("period", "action"):
            if item.get(attr):
                yield 0, "gettext", item[attr], []
