"""Statistics and the anonymised export (supervisor)."""
from __future__ import annotations

import io

from flask import make_response, render_template
from flask_babel import gettext as _

from ..extensions import db
from . import auth, bp
from .auth import require
from .common import _audit


@bp.get("/statistiques")
@require("supervisor")
def statistics():
    from ..domain import statistics as stats
    user = auth.current_user()
    summary = stats.summary(db.session, user.departement)
    charts = []
    for key, title in (("by_month", _("IPs received per month")), ("by_source", _("By source")),
                       ("by_category", _("By category")), ("by_age_band", _("By age band of the youngest child")),
                       ("by_territory", _("By territory")), ("by_outcome", _("By outcome")),
                       ("by_channel", _("By channel"))):
        pairs = sorted(summary.get(key, {}).items())
        charts.append({"title": title, "pairs": pairs, "svg": stats.bar_chart_svg(str(title), pairs)})
    _audit("statistics_view")
    db.session.commit()
    return render_template("crip/statistics.html", charts=charts, summary=summary)


@bp.get("/statistiques.csv")
@require("supervisor")
def statistics_csv():
    import csv
    from ..domain import statistics as stats
    user = auth.current_user()
    out = io.StringIO()
    writer = None
    for row in stats.csv_rows(db.session, user.departement):
        if writer is None:
            writer = csv.DictWriter(out, fieldnames=list(row.keys()))
            writer.writeheader()
        writer.writerow(row)
    _audit("export", detail="statistics csv")
    db.session.commit()
    response = make_response(out.getvalue())
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="ip-{user.departement}-anonymised.csv"'
    return response
