"""The UTC timestamp column type: every datetime read back is aware and in UTC, on SQLite as on PostgreSQL."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, create_engine, select

from portal.models import UTCDateTime, as_utc

PARIS = ZoneInfo("Europe/Paris")


@pytest.mark.parametrize("given, expected", [
    (datetime(2026, 7, 1, 14, 30, tzinfo=PARIS), datetime(2026, 7, 1, 12, 30, tzinfo=timezone.utc)),
    (datetime(2026, 1, 1, 0, 15), datetime(2026, 1, 1, 0, 15, tzinfo=timezone.utc)),   # naive: taken as UTC
    (None, None),
])
def test_sqlite_gives_back_aware_utc(tmp_path, given, expected):
    engine = create_engine(f"sqlite:///{tmp_path / 'utc.db'}")
    table = Table("t", MetaData(), Column("id", Integer, primary_key=True), Column("at", UTCDateTime))
    table.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(table.insert().values(id=1, at=given))
        got = conn.scalar(select(table.c.at))
        if given is not None:   # comparisons bind in UTC too
            assert conn.scalar(select(table.c.id).where(table.c.at < given + timedelta(seconds=1))) == 1
    assert got == expected
    assert got is None or got.utcoffset() == timedelta(0)


def test_as_utc():
    assert as_utc(None) is None
    paris = datetime(2026, 12, 24, 20, 0, tzinfo=PARIS)
    assert as_utc(paris) == paris and as_utc(paris).tzinfo is timezone.utc
