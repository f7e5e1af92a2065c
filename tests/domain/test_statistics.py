"""Statistics from the coded fields (portal.domain.statistics): counts, months, CSV export, SVG chart."""
import csv
import io
import xml.etree.ElementTree as ET
from datetime import date, datetime, timedelta, timezone

import pytest

from portal.domain import keys, statistics
from portal.extensions import db
from portal.models import InformationPreoccupante, IpCategory, IpChild

SVG = "{http://www.w3.org/2000/svg}"
_n = [0]


def make_ip(session, *, dep="31", received_at, status="new", outcome=None, decided_at=None,
            categories=("neglect",), sexes=("f",), band="6-10", source_type="public",
            channel="online", territory="toulouse", urgency=3, sealed=b"\x00sealed"):
    _n[0] += 1
    ip = InformationPreoccupante(
        reference=f"TST-{_n[0]:06d}", received_by=dep, routing_status="routed", departement=dep,
        territory=territory, channel=channel, source_type=source_type, language="fr",
        child_count=len(sexes), youngest_age_band=band, urgency=urgency, status=status,
        received_at=received_at, analysis_due=received_at.date() + timedelta(days=1),
        evaluation_due=received_at.date() + timedelta(days=92),
        crip_key_id=keys.active_key(session, dep).id, sealed=sealed, outcome=outcome,
        decided_at=decided_at)
    for i, sex in enumerate(sexes):
        ip.children.append(IpChild(position=i, age_band=band, sex=sex, sealed=b"\x00child"))
    for c in categories:
        ip.categories.append(IpCategory(category=c))
    session.add(ip)
    session.flush()
    return ip


def utc(*args):
    return datetime(*args, tzinfo=timezone.utc)


@pytest.fixture
def data(app):
    with app.app_context():
        s = db.session
        make_ip(s, received_at=utc(2026, 1, 10, 10), categories=("physical", "neglect"), sexes=("f", "m"),
                band="0-1", source_type="professional", urgency=2,
                status="closed", outcome="closed", decided_at=utc(2026, 1, 20, 10))          # 10 days
        make_ip(s, received_at=utc(2026, 1, 25, 10), categories=("sexual",), sexes=("x",),
                band="2-5", channel="phone", territory="muret",
                status="signalement", outcome="signalement", decided_at=utc(2026, 2, 14, 10))  # 20 days
        make_ip(s, received_at=utc(2026, 2, 3, 10), categories=("neglect",), band="11-14",
                source_type="young", status="help", outcome="help",
                decided_at=utc(2026, 3, 5, 10))                                               # 30 days
        make_ip(s, received_at=utc(2026, 3, 15, 10), categories=(), territory=None, status="analysis")
        make_ip(s, received_at=utc(2026, 3, 16, 10), dep="38", territory="grenoble")     # other CRIP
        s.commit()
    return app


def test_summary_counts(data):
    with data.app_context():
        s = statistics.summary(db.session, "31")
    assert s["total"] == 4 and s["decided"] == 3
    assert s["by_month"] == {"2026-01": 2, "2026-02": 1, "2026-03": 1}
    assert s["by_source_type"] == {"public": 2, "professional": 1, "young": 1}
    assert s["by_category"]["neglect"] == 2 and s["by_category"]["physical"] == 1
    assert s["by_category"]["sexual"] == 1 and s["by_category"]["other"] == 0
    assert list(s["by_category"])[:3] == ["physical", "psychological", "sexual"]
    assert s["by_age_band"]["0-1"] == 1 and s["by_age_band"]["6-10"] == 1 and s["by_age_band"]["18+"] == 0
    assert s["by_territory"] == {"muret": 1, "toulouse": 2, "unknown": 1}
    assert s["by_outcome"] == {"closed": 1, "help": 1, "pending": 1, "signalement": 1}
    assert s["by_channel"] == {"online": 3, "phone": 1}
    assert s["median_delay_days"] == 20.0
    assert s["mean_delay_days"] == 20.0


def test_summary_period_and_other_departement(data):
    with data.app_context():
        feb = statistics.summary(db.session, "31", since=date(2026, 2, 1), until=date(2026, 3, 1))
        isere = statistics.summary(db.session, "38")
        none = statistics.summary(db.session, "44")
    assert feb["total"] == 1 and feb["by_month"] == {"2026-02": 1}
    assert feb["median_delay_days"] == 30.0
    assert isere["total"] == 1 and isere["by_territory"] == {"grenoble": 1}
    assert none["total"] == 0 and none["by_month"] == {} and none["median_delay_days"] is None
    assert none["mean_delay_days"] is None


def test_month_is_local_time(app):
    """23:30 UTC on 31 January is already February in Paris."""
    with app.app_context():
        make_ip(db.session, received_at=utc(2026, 1, 31, 23, 30))
        db.session.commit()
        assert statistics.summary(db.session, "31")["by_month"] == {"2026-02": 1}
        assert statistics.summary(db.session, "31", tz=timezone.utc)["by_month"] == {"2026-01": 1}


def test_statistics_never_read_the_sealed_columns(data):
    from sqlalchemy import event
    statements = []
    engine = data.extensions["portal_engine"]

    def spy(conn, cursor, statement, *args):
        statements.append(statement)
    event.listen(engine, "before_cursor_execute", spy)
    try:
        with data.app_context():
            statistics.summary(db.session, "31")
            list(statistics.csv_rows(db.session, "31"))
    finally:
        event.remove(engine, "before_cursor_execute", spy)
    assert statements
    assert not any("sealed" in st for st in statements)


def test_csv_export_is_anonymised(data):
    with data.app_context():
        buf = io.StringIO()
        n = statistics.write_csv(db.session, "31", buf)
        refs = [ip.reference for ip in db.session.query(InformationPreoccupante)]
    assert n == 4
    text = buf.getvalue()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert tuple(rows[0].keys()) == statistics.CSV_COLUMNS
    assert len(rows) == 4
    for ref in refs:
        assert ref not in text
    assert "2026-01-10" not in text and "10/01" not in text
    for row in rows:
        assert len(row["month_received"]) == 7 and row["month_received"][4] == "-"
        assert row["month_decided"] == "" or len(row["month_decided"]) == 7
    first = next(r for r in rows if r["youngest_age_band"] == "0-1")
    assert first == {
        "month_received": "2026-01", "source_type": "professional", "channel": "online",
        "categories": "physical|neglect", "youngest_age_band": "0-1", "child_count": "2",
        "sexes": "f|m", "territory": "toulouse", "urgency": "2", "status": "closed",
        "outcome": "closed", "month_decided": "2026-01", "delay_days": "10",
    }
    pending = next(r for r in rows if r["status"] == "analysis")
    assert pending["outcome"] == "pending" and pending["delay_days"] == "" and pending["categories"] == ""
    assert pending["territory"] == "unknown"


def test_csv_row_order_tells_nothing_about_ids(app):
    with app.app_context():
        s = db.session
        make_ip(s, received_at=utc(2026, 5, 2), source_type="young")
        make_ip(s, received_at=utc(2026, 5, 1), source_type="professional")
        make_ip(s, received_at=utc(2026, 5, 3), source_type="public")
        s.commit()
        rows = list(statistics.csv_rows(db.session, "31"))
    assert [r["source_type"] for r in rows] == ["professional", "public", "young"]


def _svg(text):
    root = ET.fromstring(text)
    assert root.tag == SVG + "svg"
    return root


def test_svg_is_accessible_well_formed_xml():
    pairs = [("neglect", 12), ("<script>alert(1)</script> & co", 3), ("sexual", 0)]
    text = statistics.bar_chart_svg('IPs by "category" & <type>', pairs)
    root = _svg(text)
    assert root.get("role") == "img"
    title = root.find(SVG + "title")
    desc = root.find(SVG + "desc")
    assert title.text == 'IPs by "category" & <type>'
    assert "neglect: 12" in desc.text and "<script>alert(1)</script> & co: 3" in desc.text
    labelled = root.get("aria-labelledby").split()
    assert labelled == [title.get("id"), desc.get("id")]
    assert "<script" not in text and "@import" not in text and "url(" not in text
    assert len(root.findall(f"{SVG}g/{SVG}rect")) == 3
    widths = [float(r.get("width")) for r in root.findall(f"{SVG}g/{SVG}rect")]
    assert widths[0] > widths[1] > widths[2] == 0
    texts = "".join(t.text or "" for t in root.iter(SVG + "text"))
    assert "12" in texts and "neglect" in texts


def test_svg_empty_data_and_odd_values():
    root = _svg(statistics.bar_chart_svg("Nothing yet", [], empty_text="Aucune donnée"))
    assert root.find(SVG + "desc").text == "Aucune donnée"
    assert any(t.text == "Aucune donnée" for t in root.iter(SVG + "text"))
    zeros = _svg(statistics.bar_chart_svg("Zeros", [("a", 0), ("b", None)]))
    assert all(float(r.get("width")) == 0 for r in zeros.iter(SVG + "rect"))
    floats = _svg(statistics.bar_chart_svg("Delay", [("median", 12.25), ("mean", 20.0)], width=100))
    assert "12.2" in floats.find(SVG + "desc").text or "12.3" in floats.find(SVG + "desc").text
    ctl = _svg(statistics.bar_chart_svg("bad\x01title", [("x\x1fy", 1)]))
    assert ctl.find(SVG + "title").text == "badtitle"


def test_svg_from_summary(data):
    with data.app_context():
        s = statistics.summary(db.session, "31")
    _svg(statistics.bar_chart_svg("By month", list(s["by_month"].items())))
    _svg(statistics.bar_chart_svg("By category", list(s["by_category"].items())))
