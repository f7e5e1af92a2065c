"""Statistics and the exports (supervisor): charts and tables in words, a CSV for spreadsheets in the
staff's language, and the coded file for the ODPE/ONPE (décret n° 2016-1966)."""
from __future__ import annotations

import csv
import io
from datetime import date

from flask import make_response, render_template
from flask_babel import format_date, get_locale, gettext as _, lazy_gettext as _l
from babel.numbers import get_decimal_symbol

from ..domain import statistics as stats
from ..extensions import db
from ..web import profiles
from . import auth, bp, labels
from .auth import require
from .common import _audit

SPREADSHEET_HEADINGS = {
    "month_received": _l("Month received"), "source_type": _l("Source"), "channel": _l("How it arrived"),
    "categories": _l("Categories"), "youngest_age_band": _l("Age of the youngest child"),
    "child_count": _l("Number of children"), "sexes": _l("Sex of the children"), "territory": _l("Territory"),
    "urgency": _l("Urgency"), "status": _l("Status"), "outcome": _l("Outcome"),
    "month_decided": _l("Month decided"), "delay_days": _l("Days to the decision"),
}


def _month_label(key: str) -> str:
    try:
        year, month = (int(x) for x in key.split("-"))
    except ValueError:
        return "—"
    return format_date(date(year, month, 1), "LLLL yyyy")


def _labellers(departement: str) -> dict:
    profile = profiles().get(departement)
    territories = {t.code: t.name for t in (profile.territories if profile else ())}
    territories[stats.UNKNOWN] = _("Not known")
    return {
        "by_month": _month_label, "month_received": _month_label, "month_decided": _month_label,
        "by_source_type": lambda c: labels.label(labels.SOURCES, c),
        "by_category": lambda c: labels.label(labels.CATEGORY, c),
        "by_age_band": lambda c: labels.label(labels.AGE, c),
        "by_territory": lambda c: territories.get(c) or labels.label({}, c),
        "by_outcome": lambda c: labels.label(labels.OUTCOME, c),
        "by_channel": lambda c: labels.label(labels.CHANNELS, c),
    }


def charts_for(summary: dict, departement: str) -> list[dict]:
    """Each chart's (label, count) pairs in the order the summary gives them: months in time order,
    bands and categories in their natural order."""
    name = _labellers(departement)
    charts = []
    for key, title in (("by_month", _("IPs received per month")), ("by_source_type", _("By source")),
                       ("by_category", _("By category")),
                       ("by_age_band", _("By age band of the youngest child")),
                       ("by_territory", _("By territory")), ("by_outcome", _("By outcome")),
                       ("by_channel", _("By channel"))):
        pairs = [(name[key](code), n) for code, n in summary.get(key, {}).items()]
        charts.append({"title": title, "pairs": pairs,
                       "svg": stats.bar_chart_svg(str(title), pairs, empty_text=_("No data yet."))})
    return charts


@bp.get("/statistiques")
@require("supervisor")
def statistics():
    user = auth.current_user()
    summary = stats.summary(db.session, user.departement)
    charts = charts_for(summary, user.departement)
    _audit("statistics_view")
    db.session.commit()
    return render_template("crip/statistics.html", charts=charts, summary=summary)


def _csv_response(text: str, filename: str):
    response = make_response("\ufeff" + text)     # the BOM tells spreadsheets it is UTF-8
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def spreadsheet_rows(departement: str) -> tuple[list[str], list[list]]:
    """The anonymised rows in words, with translated headings."""
    name = _labellers(departement)
    territory = name["by_territory"]

    def words(column, value):
        if column in ("month_received", "month_decided"):
            return name[column](value) if value else "—"
        if column == "source_type":
            return labels.label(labels.SOURCES, value)
        if column == "channel":
            return labels.label(labels.CHANNELS, value)
        if column == "categories":
            return ", ".join(labels.label(labels.CATEGORY, c) for c in value.split("|") if c) or "—"
        if column == "youngest_age_band":
            return labels.label(labels.AGE, value)
        if column == "sexes":
            return ", ".join(labels.label(labels.SEX, c) for c in value.split("|") if c) or "—"
        if column == "territory":
            return territory(value)
        if column == "urgency":
            return labels.label(labels.URGENCY, value)
        if column == "status":
            return labels.label(labels.STATUS, value)
        if column == "outcome":
            return labels.label(labels.OUTCOME, value)
        return value
    heads = [str(SPREADSHEET_HEADINGS[c]) for c in stats.CSV_COLUMNS]
    rows = [[words(c, row[c]) for c in stats.CSV_COLUMNS] for row in stats.csv_rows(db.session, departement)]
    return heads, rows


@bp.get("/statistiques.csv")
@require("supervisor")
def statistics_csv():
    """For spreadsheets: UTF-8 with a BOM, words in the staff's language, `;` where the decimal
    separator is a comma (French), so that a double click opens labelled columns."""
    user = auth.current_user()
    heads, rows = spreadsheet_rows(user.departement)
    out = io.StringIO()
    delimiter = ";" if get_decimal_symbol(str(get_locale())) == "," else ","
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(heads)
    writer.writerows(rows)
    _audit("export", detail="statistics csv")
    db.session.commit()
    return _csv_response(out.getvalue(), f"ip-{user.departement}-anonymised.csv")


@bp.get("/statistiques-odpe.csv")
@require("supervisor")
def statistics_odpe():
    """The coded file for the ODPE/ONPE: the variables of décret n° 2016-1966 the portal holds."""
    user = auth.current_user()
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=stats.ODPE_COLUMNS, delimiter=";", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(stats.odpe_rows(db.session, user.departement))
    _audit("export", detail="odpe csv")
    db.session.commit()
    return _csv_response(out.getvalue(), f"odpe-{user.departement}.csv")
