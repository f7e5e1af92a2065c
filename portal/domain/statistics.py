"""Activity statistics of a CRIP, from the coded fields kept in clear only.

Nothing here reads a sealed column: the queries select the coded columns by name (department,
territory, source type, channel, age band, sex, categories, urgency, status, outcome, dates).

- `summary()`: counts by month of receipt, source type, category, youngest child's age band,
  territory, outcome and channel, and the median and mean delay to the decision in days.
- `csv_rows()` / `write_csv()`: one anonymised row per IP, in the spirit of the national
  observatory's data set (décret 2016-1966): months, never exact dates; no reference, no id, no
  free text; rows sorted by their own values so that their order tells nothing about the order
  of receipt.
- `bar_chart_svg()`: a server-drawn, accessible SVG bar chart (no script, no external font).

Months are counted in the département's local time (Europe/Paris unless told otherwise).
No Flask here.
"""
from __future__ import annotations

import csv
import hashlib
import html
import math
import re
import statistics as pystats
from collections import Counter, defaultdict
from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import InformationPreoccupante as IP, IpCategory, IpChild, as_utc
from .priority import AGE_BANDS, CATEGORIES

PARIS = ZoneInfo("Europe/Paris")
PENDING = "pending"
UNKNOWN = "unknown"

CSV_COLUMNS = (
    "month_received", "source_type", "channel", "categories", "youngest_age_band", "child_count",
    "sexes", "territory", "urgency", "status", "outcome", "month_decided", "delay_days",
)

# The clear, coded columns this module may read. `sealed` is deliberately not among them.
_COLUMNS = (
    IP.id, IP.received_at, IP.source_type, IP.channel, IP.youngest_age_band, IP.child_count,
    IP.territory, IP.urgency, IP.status, IP.outcome, IP.decided_at,
)


def _bound(value, tz) -> datetime | None:
    """A date is midnight local time; a datetime is taken as is (naive = UTC). Result in UTC."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return as_utc(value)
    if isinstance(value, date):
        return datetime.combine(value, time(0), tzinfo=tz).astimezone(timezone.utc)
    raise TypeError(f"since/until must be a date or a datetime, got {type(value).__name__}")


def _month(dt: datetime | None, tz) -> str:
    if dt is None:
        return ""
    return dt.astimezone(tz).strftime("%Y-%m")


def _delay_days(ip_row) -> float | None:
    if ip_row.decided_at is None:
        return None
    return (ip_row.decided_at - ip_row.received_at).total_seconds() / 86400


def _filters(departement: str, since, until, tz):
    conds = [IP.received_by == departement]
    lo, hi = _bound(since, tz), _bound(until, tz)
    if lo is not None:
        conds.append(IP.received_at >= lo)
    if hi is not None:
        conds.append(IP.received_at < hi)
    return conds


def _rows(session: Session, conds):
    return session.execute(select(*_COLUMNS).where(*conds).order_by(IP.id)).all()


def _categories(session: Session, conds) -> dict[int, list[str]]:
    out: dict[int, list[str]] = defaultdict(list)
    q = (select(IpCategory.ip_id, IpCategory.category).join(IP, IP.id == IpCategory.ip_id)
         .where(*conds).order_by(IpCategory.ip_id, IpCategory.category))
    for ip_id, cat in session.execute(q):
        out[ip_id].append(cat)
    for cats in out.values():     # the canonical order of priority.CATEGORIES, unknown ones last
        cats.sort(key=lambda c: (CATEGORIES.index(c) if c in CATEGORIES else len(CATEGORIES), c))
    return out


def _sexes(session: Session, conds) -> dict[int, list[str]]:
    out: dict[int, list[str]] = defaultdict(list)
    q = (select(IpChild.ip_id, IpChild.sex).join(IP, IP.id == IpChild.ip_id)
         .where(*conds).order_by(IpChild.ip_id, IpChild.position, IpChild.id))
    for ip_id, sex in session.execute(q):
        out[ip_id].append(sex if sex in ("f", "m") else "x")
    return out


def _ordered(counter: Counter, canonical=()) -> dict:
    """Canonical keys first (zeros included), then any other key alphabetically."""
    out = {k: counter.get(k, 0) for k in canonical}
    for k in sorted(k for k in counter if k not in out):
        out[k] = counter[k]
    return out


def summary(session: Session, departement: str, *, since=None, until=None, tz=PARIS) -> dict:
    """Counts for the IPs received by `departement`'s CRIP in [since, until)."""
    conds = _filters(departement, since, until, tz)
    rows = _rows(session, conds)
    cats = _categories(session, conds)
    by_month, by_source, by_cat, by_band = Counter(), Counter(), Counter(), Counter()
    by_territory, by_outcome, by_channel = Counter(), Counter(), Counter()
    delays = []
    for r in rows:
        by_month[_month(r.received_at, tz)] += 1
        by_source[r.source_type or UNKNOWN] += 1
        by_band[r.youngest_age_band or UNKNOWN] += 1
        by_territory[r.territory or UNKNOWN] += 1
        by_outcome[r.outcome or PENDING] += 1
        by_channel[r.channel or UNKNOWN] += 1
        for c in cats.get(r.id, ()):
            by_cat[c] += 1
        d = _delay_days(r)
        if d is not None:
            delays.append(d)
    return {
        "departement": departement,
        "since": since,
        "until": until,
        "total": len(rows),
        "decided": len(delays),
        "by_month": dict(sorted(by_month.items())),
        "by_source_type": _ordered(by_source, ("public", "professional", "young")),
        "by_category": _ordered(by_cat, CATEGORIES),
        "by_age_band": _ordered(by_band, AGE_BANDS),
        "by_territory": _ordered(by_territory),
        "by_outcome": _ordered(by_outcome),
        "by_channel": _ordered(by_channel),
        "median_delay_days": round(pystats.median(delays), 1) if delays else None,
        "mean_delay_days": round(pystats.fmean(delays), 1) if delays else None,
    }


def csv_rows(session: Session, departement: str, *, since=None, until=None, tz=PARIS):
    """Yield one dict per IP, keyed by CSV_COLUMNS; values are strings or integers."""
    conds = _filters(departement, since, until, tz)
    rows = _rows(session, conds)
    cats = _categories(session, conds)
    sexes = _sexes(session, conds)
    out = []
    for r in rows:
        d = _delay_days(r)
        out.append({
            "month_received": _month(r.received_at, tz),
            "source_type": r.source_type or UNKNOWN,
            "channel": r.channel or UNKNOWN,
            "categories": "|".join(cats.get(r.id, ())),
            "youngest_age_band": r.youngest_age_band or UNKNOWN,
            "child_count": int(r.child_count or 0),
            "sexes": "|".join(sexes.get(r.id, ())),
            "territory": r.territory or UNKNOWN,
            "urgency": int(r.urgency),
            "status": r.status,
            "outcome": r.outcome or PENDING,
            "month_decided": _month(r.decided_at, tz),
            "delay_days": "" if d is None else max(0, math.floor(d)),
        })
    # Sorted on the values themselves: the order of the file says nothing about ids or dates.
    out.sort(key=lambda row: tuple(str(row[c]) for c in CSV_COLUMNS))
    yield from out


def write_csv(session: Session, departement: str, fileobj, *, since=None, until=None, tz=PARIS) -> int:
    """Write the header and the rows to an open text file; return the number of rows."""
    writer = csv.DictWriter(fileobj, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    n = 0
    for row in csv_rows(session, departement, since=since, until=until, tz=tz):
        writer.writerow(row)
        n += 1
    return n


# Transmission to the ODPE / ONPE (décret n° 2016-1966 of 28 Dec 2016) ---------------------------
#
# One row per child of each IP, coded, with the decree's variables the portal holds, named after the
# decree's wording (French, snake case); months and years, never exact dates; no name, no reference.
# What the portal does not hold (schooling, household make-up, resources, measures and their dates)
# is not invented: those columns are not in the file.
ODPE_COLUMNS = (
    "departement",                                  # département de la CRIP
    "numero_ordre_enfant",                          # rang de l'enfant dans l'information (1, 2 …)
    "sexe",                                         # 1 masculin, 2 féminin, 9 non connu
    "tranche_age",                                  # âge de l'enfant en tranches (0-1, 2-5 … 18+, inconnu)
    "mois_annee_reception_information",             # date de réception de la première information (MM/AAAA)
    "origine_information",                          # particulier | professionnel | mineur lui-même
    "mode_transmission",                            # en ligne, téléphone, courrier, 119, parquet …
    "nature_danger",                                # types de danger signalés, séparés par |
    "nombre_enfants_concernes",
    "suite_donnee",                                 # classement, aide administrative, saisine …, en cours
    "mois_annee_decision",                          # MM/AAAA
    "mois_annee_transmission_autorite_judiciaire",  # signalement au procureur (MM/AAAA)
)
_ODPE_SEX = {"m": "1", "f": "2"}
_ODPE_SOURCE = {"public": "particulier", "professional": "professionnel", "young": "mineur"}
_ODPE_OUTCOME = {"closed": "classement_sans_suite", "help": "aide_administrative",
                 "signalement": "saisine_autorite_judiciaire", "transferred": "transmission_autre_departement",
                 "linked": "rattachement_information_existante"}


def _month_year(value, tz) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = as_utc(value).astimezone(tz)
    return f"{value.month:02d}/{value.year}"


def odpe_rows(session: Session, departement: str, *, since=None, until=None, tz=PARIS) -> list[dict]:
    """The coded rows for the ODPE/ONPE, keyed by ODPE_COLUMNS, sorted on their own values."""
    conds = _filters(departement, since, until, tz)
    cats = _categories(session, conds)
    q = (select(IP.id, IP.received_at, IP.source_type, IP.channel, IP.child_count, IP.status, IP.outcome,
                IP.decided_at, IP.signalement_on, IpChild.position, IpChild.age_band, IpChild.sex)
         .join(IpChild, IpChild.ip_id == IP.id).where(*conds).order_by(IP.id, IpChild.position))
    out = []
    for r in session.execute(q):
        out.append({
            "departement": departement,
            "numero_ordre_enfant": r.position + 1,
            "sexe": _ODPE_SEX.get(r.sex, "9"),
            "tranche_age": r.age_band if r.age_band and r.age_band != UNKNOWN else "inconnu",
            "mois_annee_reception_information": _month_year(r.received_at, tz),
            "origine_information": _ODPE_SOURCE.get(r.source_type, "inconnu"),
            "mode_transmission": r.channel or UNKNOWN,
            "nature_danger": "|".join(cats.get(r.id, ())),
            "nombre_enfants_concernes": int(r.child_count or 0),
            "suite_donnee": _ODPE_OUTCOME.get(r.outcome or "", "en_cours"),
            "mois_annee_decision": _month_year(r.decided_at, tz),
            "mois_annee_transmission_autorite_judiciaire": _month_year(r.signalement_on, tz),
        })
    out.sort(key=lambda row: tuple(str(row[c]) for c in ODPE_COLUMNS))
    return out


# SVG ------------------------------------------------------------------------------------------

_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
BAR_COLOR = "#000091"      # contrast 14:1 on white
TEXT_COLOR = "#1e1e1e"


def _esc(value) -> str:
    return html.escape(_XML_BAD.sub("", str(value)), quote=True)


def _fmt(value) -> str:
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.1f}"
    return str(int(value)) if isinstance(value, (int, float)) else str(value)


def _short(label: str, max_chars: int) -> str:
    return label if len(label) <= max_chars else label[: max(1, max_chars - 1)] + "…"


def bar_chart_svg(title: str, pairs, *, width: int = 640, desc: str | None = None,
                  empty_text: str = "No data", value_format=None) -> str:
    """Horizontal bars, one per (label, value) pair, with the figures written beside them.

    The <title> and <desc> (every label with its value, or `empty_text`) are what a screen
    reader announces; the chart has role="img". All text is escaped."""
    fmt = value_format or _fmt
    pairs = [(str(label), value or 0) for label, value in pairs]
    width = max(240, int(width))
    digest = hashlib.sha256(repr((title, pairs)).encode()).hexdigest()[:10]
    uid = f"chart-{digest}"
    pad, top, row_h, bar_h = 8, 40, 26, 18
    label_w = int(width * 0.35)
    value_w = 64
    bar_max = max(10, width - label_w - value_w - 2 * pad)
    vmax = max((float(v) for _l, v in pairs), default=0.0)
    height = top + max(1, len(pairs)) * row_h + pad
    if desc is None:
        desc = "; ".join(f"{label}: {fmt(v)}" for label, v in pairs) if pairs else empty_text
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="bar-chart" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-labelledby="{uid}-title {uid}-desc" '
        f'font-family="sans-serif" font-size="13" fill="{TEXT_COLOR}">',
        f'<title id="{uid}-title">{_esc(title)}</title>',
        f'<desc id="{uid}-desc">{_esc(desc)}</desc>',
        f'<text x="{pad}" y="22" font-size="15" font-weight="bold" aria-hidden="true">{_esc(title)}</text>',
    ]
    if not pairs:
        out.append(f'<text x="{pad}" y="{top + 17}">{_esc(empty_text)}</text>')
    max_chars = max(4, (label_w - pad - 8) // 7)
    for i, (label, value) in enumerate(pairs):
        y = top + i * row_h
        v = max(0.0, float(value))
        w = round(bar_max * v / vmax, 1) if vmax > 0 else 0
        text_y = y + bar_h - 4
        out.append(
            f'<g><text x="{label_w - 8}" y="{text_y}" text-anchor="end">{_esc(_short(label, max_chars))}</text>'
            f'<rect x="{label_w}" y="{y}" width="{w}" height="{bar_h}" fill="{BAR_COLOR}">'
            f'<title>{_esc(label)}: {_esc(fmt(value))}</title></rect>'
            f'<text x="{label_w + w + 6}" y="{text_y}">{_esc(fmt(value))}</text></g>'
        )
    out.append("</svg>")
    return "\n".join(out)
