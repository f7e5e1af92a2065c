"""What the sender is promised matches what the code computes (the Département's deadlines)."""
from __future__ import annotations

from datetime import datetime, timezone

from portal.domain.priority import add_working_days, paris_date

from .helpers import db_session, only_ip


def test_confirmation_promises_the_first_analysis_delay_the_code_sets(report_app, send_report):
    conf = send_report("public")
    deadlines = report_app.config["PROFILES"]["31"].deadlines
    assert deadlines.analysis_working_days == 1
    assert "analyses your report, the most urgent ones first, within 1 working day." in conf.page.text
    with db_session(report_app) as s:
        ip = only_ip(s)
        received = paris_date(ip.received_at)
        assert ip.analysis_due == add_working_days(received, deadlines.analysis_working_days, "31")


def test_sent_at_half_past_midnight_in_paris_is_dated_in_paris(make_report_app, sqlite_template):
    moment = datetime(2026, 11, 28, 23, 30, tzinfo=timezone.utc)     # 29 Nov 2026, 00:30 in Paris
    app = make_report_app(CLOCK=lambda: moment)
    from .helpers import Reporter
    Reporter(app).report("public")
    with db_session(app) as s:
        ip = only_ip(s)
        assert ip.evaluation_due.isoformat() == "2027-02-28"           # 3 calendar months from 29/11
        assert ip.analysis_due.isoformat() == "2026-11-30"             # Sunday 29 → Monday 30
