"""The hash-chained audit log (portal.domain.audit): intact, edited, deleted, reordered, concurrent."""
import threading
from datetime import datetime, timedelta, timezone

from sqlalchemy import select, text

from portal.domain import audit
from portal.extensions import db
from portal.models import AuditEntry

T0 = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=timezone.utc)


def _fill(session, n=20):
    for i in range(n):
        audit.record(session, actor_id=(i % 3) or None, action=f"action{i % 4}",
                     target=f"ip/{i}", detail=f"detail {i}", now=T0 + timedelta(minutes=i, microseconds=i))
    session.commit()
    return list(session.scalars(select(AuditEntry.id).order_by(AuditEntry.id)))


def test_chain_intact_after_20_records(any_app):
    with any_app.app_context():
        s = db.session
        ids = _fill(s)
        assert len(ids) == 20
        s.expire_all()
        entries = list(s.scalars(select(AuditEntry).order_by(AuditEntry.id)))
        assert entries[0].prev_hash == audit.GENESIS
        for a, b in zip(entries, entries[1:]):
            assert b.prev_hash == a.hash
        assert audit.verify(s) == []
        assert audit.head(s) == entries[-1].hash
        assert audit.count(s) == 20


def test_empty_log_is_intact(any_app):
    with any_app.app_context():
        assert audit.verify(db.session) == []
        assert audit.head(db.session) == audit.GENESIS


def test_hash_does_not_depend_on_id_or_timezone_of_now():
    paris = timezone(timedelta(hours=2))
    local = T0.astimezone(paris)
    h1 = audit.compute_hash(audit.GENESIS, T0, 1, "a", "t", "d")
    assert audit.compute_hash(audit.GENESIS, local, 1, "a", "t", "d") == h1
    assert audit.compute_hash(audit.GENESIS, T0.replace(tzinfo=None), 1, "a", "t", "d") == h1
    assert audit.compute_hash(audit.GENESIS, T0, 1, "a", "t", "e") != h1
    assert b"2026-03-01T09:30:15.123456+00:00" in audit.canonical(audit.GENESIS, T0, 1, "a", "t", "d")


def test_non_utc_now_and_long_texts_still_verify(any_app):
    with any_app.app_context():
        s = db.session
        audit.record(s, actor_id=None, action="x" * 60, target="t" * 200, detail="d" * 1000,
                     now=T0.astimezone(timezone(timedelta(hours=-5))))
        audit.record(s, actor_id=7, action="signin", now=datetime.now(timezone.utc))
        s.commit()
        s.expire_all()
        assert audit.verify(s) == []


def test_edited_detail_is_reported(any_app):
    with any_app.app_context():
        s = db.session
        ids = _fill(s)
        s.execute(text("UPDATE audit_log SET detail = 'nothing happened' WHERE id = :i"), {"i": ids[7]})
        s.commit()
        s.expire_all()
        problems = audit.verify(s)
        assert len(problems) == 1
        assert f"entry {ids[7]}" in problems[0] and "edited" in problems[0]


def test_edited_and_rehashed_line_breaks_the_next_link(any_app):
    with any_app.app_context():
        s = db.session
        ids = _fill(s)
        e = s.get(AuditEntry, ids[7])
        e.detail = "rewritten"
        e.hash = audit.entry_hash(e)
        s.commit()
        s.expire_all()
        problems = audit.verify(s)
        assert len(problems) == 1
        assert f"entry {ids[8]}" in problems[0]


def test_deleted_middle_line_is_reported(any_app):
    with any_app.app_context():
        s = db.session
        ids = _fill(s)
        s.execute(text("DELETE FROM audit_log WHERE id = :i"), {"i": ids[10]})
        s.commit()
        s.expire_all()
        problems = audit.verify(s)
        assert len(problems) == 1
        assert f"entry {ids[11]}" in problems[0] and "deleted" in problems[0]


def test_deleted_first_line_is_reported(any_app):
    with any_app.app_context():
        s = db.session
        ids = _fill(s, 5)
        s.execute(text("DELETE FROM audit_log WHERE id = :i"), {"i": ids[0]})
        s.commit()
        problems = audit.verify(s)
        assert len(problems) == 1 and f"entry {ids[1]}" in problems[0]


def test_ids_out_of_order_are_reported(any_app):
    with any_app.app_context():
        s = db.session
        ids = _fill(s, 6)
        a, b = ids[2], ids[3]
        s.execute(text("UPDATE audit_log SET id = -1 WHERE id = :a"), {"a": a})
        s.execute(text("UPDATE audit_log SET id = :a WHERE id = :b"), {"a": a, "b": b})
        s.execute(text("UPDATE audit_log SET id = :b WHERE id = -1"), {"b": b})
        s.commit()
        s.expire_all()
        problems = audit.verify(s)
        assert problems
        assert any("out of order" in p for p in problems)
        assert not any("edited" in p for p in problems)


def test_concurrent_writers_do_not_fork_the_chain(any_app):
    """Two writers, each in its own session and transaction, interleaving commits."""
    factory = any_app.extensions["portal_db"]
    errors = []
    start = threading.Barrier(2)

    def writer(n):
        session = factory()
        try:
            start.wait()
            for i in range(10):
                audit.record(session, actor_id=n, action="write", detail=f"{n}-{i}")
                session.commit()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
            session.rollback()
        finally:
            session.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    with any_app.app_context():
        assert audit.count(db.session) == 20
        assert audit.verify(db.session) == []


# Anchors outside the database ----------------------------------------------------------------------

def _recompute_from(session, start_id):
    """What a tamperer with the database does: re-link and re-hash every line from start_id on."""
    rows = list(session.scalars(select(AuditEntry).where(AuditEntry.id >= start_id).order_by(AuditEntry.id)))
    prev = session.scalar(select(AuditEntry.hash).where(AuditEntry.id < start_id)
                          .order_by(AuditEntry.id.desc()).limit(1)) or audit.GENESIS
    for e in rows:
        e.prev_hash = prev
        e.hash = audit.entry_hash(e)
        prev = e.hash
    session.commit()


def test_anchor_catches_deleted_newest_lines(any_app, tmp_path):
    path = tmp_path / "anchors.log"
    with any_app.app_context():
        s = db.session
        ids = _fill(s)
        audit.append_anchor(path, audit.anchor(s, T0 + timedelta(days=1)))
        anchors, problems = audit.read_anchors(path)
        assert problems == [] and audit.verify_anchors(s, anchors) == []
        s.execute(text("DELETE FROM audit_log WHERE id >= :i"), {"i": ids[-3]})
        s.commit()
        assert audit.verify(s) == []                 # the shorter chain alone looks whole
        found = audit.verify_anchors(s, anchors)
        assert found and f"entry {ids[-1]} is missing" in found[0]


def test_anchor_catches_a_rewritten_and_recomputed_chain(any_app, tmp_path):
    path = tmp_path / "anchors.log"
    with any_app.app_context():
        s = db.session
        ids = _fill(s)
        audit.append_anchor(path, audit.anchor(s, T0 + timedelta(days=1)))
        s.execute(text("DELETE FROM audit_log WHERE id = :i"), {"i": ids[5]})
        s.commit()
        s.expire_all()
        _recompute_from(s, ids[6])
        assert audit.verify(s) == []                 # recomputed: the chain alone cannot tell
        anchors, _ = audit.read_anchors(path)
        found = audit.verify_anchors(s, anchors)
        assert any("rewritten" in p for p in found) and any("19 entries" in p for p in found)


def test_anchor_file_is_append_only_and_private(app, tmp_path):
    import stat
    path = tmp_path / "anchors.log"
    with app.app_context():
        _fill(db.session, 3)
        audit.append_anchor(path, audit.anchor(db.session, T0))
        _fill(db.session, 2)
        audit.append_anchor(path, audit.anchor(db.session, T0 + timedelta(hours=1)))
        anchors, problems = audit.read_anchors(path)
    assert [a["count"] for a in anchors] == [3, 5] and problems == []
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_audit_anchor_and_verify_commands(app, tmp_path):
    path = tmp_path / "anchors.log"
    app.config["AUDIT_ANCHOR_PATH"] = str(path)
    with app.app_context():
        ids = _fill(db.session, 6)
        runner = app.test_cli_runner()
        r = runner.invoke(args=["audit", "anchor"])
        assert r.exit_code == 0 and f"Anchored entry {ids[-1]} (6 entries)" in r.output
        r = runner.invoke(args=["audit", "verify"])
        assert r.exit_code == 0 and "audit log intact: 6 entries, 1 anchor(s) checked" in r.output
        db.session.execute(text("DELETE FROM audit_log WHERE id = :i"), {"i": ids[-1]})
        db.session.commit()
        r = runner.invoke(args=["audit", "verify"])
        assert r.exit_code == 1 and "is missing: lines were deleted" in r.output
