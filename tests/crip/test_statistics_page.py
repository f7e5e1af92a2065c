"""Statistics as a supervisor sees them, from a known set of 50 IPs: counts, labels and order of every
table (the charts draw the same pairs), the CSV for spreadsheets and the coded ODPE/ONPE file."""
from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest

from portal.domain import statistics
from portal.extensions import db
from tests.domain.test_statistics import make_ip, utc

BANDS = ("11-14", "0-1", "18+", "2-5", "15-17", "6-10")
CATS = (("neglect",), ("physical", "sexual"), ("domestic_violence",))


@pytest.fixture
def fifty(crip_app):
    with crip_app.app_context():
        s = db.session
        for i in reversed(range(50)):          # inserted newest-first: order must come from the data
            month = i % 5 + 1
            source = "public" if i % 10 < 5 else "professional" if i % 10 < 8 else "young"
            decided = {}
            if i < 10:
                decided = {"status": "closed", "outcome": "closed", "decided_at": utc(2026, month, 20, 10)}
            elif i < 15:
                decided = {"status": "signalement", "outcome": "signalement", "decided_at": utc(2026, month, 25, 10)}
            ip = make_ip(s, received_at=utc(2026, month, 10, 10), band=BANDS[i % 6], categories=CATS[i % 3],
                         source_type=source, territory="muret" if i % 2 else "toulouse",
                         sexes=("f", "m") if i % 4 == 0 else ("x",), channel="phone" if i % 7 == 0 else "online",
                         **decided)
            if 10 <= i < 15:
                ip.signalement_on = date(2026, month, 24)
        s.commit()
    return crip_app


def _tables(html: str) -> dict[str, list[tuple[str, int]]]:
    out = {}
    for title, body in re.findall(r'<h2 id="chart-\d+">(.*?)</h2>.*?<tbody>(.*?)</tbody>', html, re.S):
        out[title] = [(k, int(v)) for k, v in re.findall(r'<th scope="row">(.*?)</th><td>(\d+)</td>', body)]
    return out


def test_every_table_in_words_and_in_order(fifty, signed_in):
    c = signed_in("supervisor")
    html = c.get("/crip/statistiques?lang=en").data.decode()
    t = _tables(html)
    assert t["IPs received per month"] == [("January 2026", 10), ("February 2026", 10), ("March 2026", 10),
                                           ("April 2026", 10), ("May 2026", 10)]
    assert t["By source"] == [("Member of the public or family", 25), ("Professional", 15), ("Young person", 10)]
    assert t["By age band of the youngest child"] == [
        ("Under 2", 9), ("2 to 5 years", 8), ("6 to 10 years", 8), ("11 to 14 years", 9),
        ("15 to 17 years", 8), ("18 or over", 8), ("Age not known", 0)]
    cats = dict(t["By category"])
    assert cats["Neglect"] == 17 and cats["Physical violence"] == 17 and cats["Sexual violence"] == 17
    assert cats["Exposure to domestic violence"] == 16 and cats["Other concern"] == 0
    assert [k for k, _v in t["By category"]][:4] == ["Physical violence", "Psychological violence",
                                                     "Sexual violence", "Neglect"]
    assert t["By territory"] == [("Territoire de Muret", 25), ("Territoire de Toulouse", 25)]
    assert dict(t["By outcome"]) == {"Closed without further action": 10, "Signalement to the procureur": 5,
                                     "Not yet decided": 35}
    assert dict(t["By channel"]) == {"Online form": 42, "Phone call": 8}
    assert "No data" not in html and "by_source" not in html
    assert "50 IPs received, 15 decided." in html
    # the chart draws the same words as the table
    assert "Member of the public or family: 25" in html


def test_french_page_has_french_months(fifty, signed_in):
    html = signed_in("supervisor").get("/crip/statistiques").data.decode()
    months = [k for k, _v in _tables(html)[next(iter(_tables(html)))]]
    assert months == ["janvier 2026", "février 2026", "mars 2026", "avril 2026", "mai 2026"]


def _read(response):
    raw = response.data
    assert raw.startswith("\ufeff".encode()), "UTF-8 BOM"
    assert response.headers["Content-Type"].startswith("text/csv")
    return raw.decode("utf-8-sig")


def test_spreadsheet_csv_french_semicolons_labels(fifty, signed_in):
    c = signed_in("supervisor")
    text = _read(c.get("/crip/statistiques.csv"))
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert len(rows) == 51 and len(rows[0]) == len(statistics.CSV_COLUMNS)
    assert all(len(r) == len(rows[0]) for r in rows)
    text_en = _read(c.get("/crip/statistiques.csv?lang=en"))
    en = list(csv.DictReader(io.StringIO(text_en), delimiter=","))
    assert len(en) == 50
    assert set(en[0]) >= {"Month received", "Source", "Urgency", "Age of the youngest child", "Territory"}
    assert {r["Urgency"] for r in en} == {"Normal"}
    assert {r["Source"] for r in en} == {"Member of the public or family", "Professional", "Young person"}
    assert {r["Territory"] for r in en} == {"Territoire de Muret", "Territoire de Toulouse"}
    assert sum(r["Outcome"] == "Not yet decided" for r in en) == 35
    assert "January 2026" in {r["Month received"] for r in en}
    numeric = {"Number of children", "Days to the decision"}
    assert not any(v in ("1", "2", "3", "public", "neglect", "0-1", "unknown")
                   for r in en for k, v in r.items() if k not in numeric)


def test_odpe_file_is_coded_with_the_decree_names(fifty, signed_in):
    c = signed_in("supervisor")
    rows = list(csv.DictReader(io.StringIO(_read(c.get("/crip/statistiques-odpe.csv"))), delimiter=";"))
    assert tuple(rows[0]) == statistics.ODPE_COLUMNS
    assert len(rows) == 50 + 13          # one row per child: i % 4 == 0 has two children (13 IPs)
    assert {r["sexe"] for r in rows} == {"1", "2", "9"}
    assert sum(r["origine_information"] == "particulier" for r in rows) == 25 + 8   # 8 of 13 are public
    assert {r["mois_annee_reception_information"] for r in rows} == {f"0{m}/2026" for m in range(1, 6)}
    assert sum(r["suite_donnee"] == "saisine_autorite_judiciaire" for r in rows) == 5 + 1
    assert {r["mois_annee_transmission_autorite_judiciaire"] for r in rows} >= {"", "01/2026"}
    assert not any(re.search(r"\d{4}-\d{2}-\d{2}", v) for r in rows for v in r.values())


def test_exports_are_audited_and_refused_to_agents(fifty, signed_in):
    assert signed_in("agent").get("/crip/statistiques-odpe.csv").status_code == 403
