"""The hash-chained audit log (portal.domain.audit): intact, edited, deleted, reordered, concurrent;
keyed (version 2, HMAC with AUDIT_KEY) and unkeyed (version 1, lines written before keying)."""
import threading
from datetime import datetime, timedelta, timezone

import pytest
from flask import current_app
from sqlalchemy import select, text

from portal.domain import audit
from portal.extensions import db
from portal.models import AuditEntry

T0 = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=timezone.utc)


def _key():
    return current_app.config["AUDIT_KEY"]


def _verify(session):
    return audit.verify(session, key=_key())


def _fill(session, n=20):
    for i in range(n):
        audit.record(session, key=_key(), actor_id=(i % 3) or None, action=f"action{i % 4}",
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
        assert _verify(s) == []
        assert audit.head(s) == entries[-1].hash
        assert audit.count(s) == 20


def test_empty_log_is_intact(any_app):
    with any_app.app_context():
        assert _verify(db.session) == []
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
        audit.record(s, key=_key(), actor_id=None, action="x" * 60, target="t" * 200, detail="d" * 1000,
                     now=T0.astimezone(timezone(timedelta(hours=-5))))
        audit.record(s, key=_key(), actor_id=7, action="signin", now=datetime.now(timezone.utc))
        s.commit()
        s.expire_all()
        assert _verify(s) == []


def test_edited_detail_is_reported(any_app):
    with any_app.app_context():
        s = db.session
        ids = _fill(s)
        s.execute(text("UPDATE audit_log SET detail = 'nothing happened' WHERE id = :i"), {"i": ids[7]})
        s.commit()
        s.expire_all()
        problems = _verify(s)
        assert len(problems) == 1
        assert f"entry {ids[7]}" in problems[0] and "edited" in problems[0]


def test_edited_and_rehashed_line_breaks_the_next_link(any_app):
    with any_app.app_context():
        s = db.session
        ids = _fill(s)
        e = s.get(AuditEntry, ids[7])
        e.detail = "rewritten"
        e.hash = audit.entry_hash(e, _key())          # an insider holding the key
        s.commit()
        s.expire_all()
        problems = _verify(s)
        assert len(problems) == 1
        assert f"entry {ids[8]}" in problems[0]


def test_deleted_middle_line_is_reported(any_app):
    with any_app.app_context():
        s = db.session
        ids = _fill(s)
        s.execute(text("DELETE FROM audit_log WHERE id = :i"), {"i": ids[10]})
        s.commit()
        s.expire_all()
        problems = _verify(s)
        assert len(problems) == 1
        assert f"entry {ids[11]}" in problems[0] and "deleted" in problems[0]


def test_deleted_first_line_is_reported(any_app):
    with any_app.app_context():
        s = db.session
        ids = _fill(s, 5)
        s.execute(text("DELETE FROM audit_log WHERE id = :i"), {"i": ids[0]})
        s.commit()
        problems = _verify(s)
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
        problems = _verify(s)
        assert problems
        assert any("out of order" in p for p in problems)
        assert not any("edited" in p for p in problems)


def test_concurrent_writers_do_not_fork_the_chain(any_app):
    """Two writers, each in its own session and transaction, interleaving commits."""
    factory = any_app.extensions["portal_db"]
    key = any_app.config["AUDIT_KEY"]
    errors = []
    start = threading.Barrier(2)

    def writer(n):
        session = factory()
        try:
            start.wait()
            for i in range(10):
                audit.record(session, key=key, actor_id=n, action="write", detail=f"{n}-{i}")
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
        assert _verify(db.session) == []


# Anchors outside the database ----------------------------------------------------------------------

def _recompute_from(session, start_id, key):
    """What a tamperer with the database does: re-link and re-hash every line from start_id on
    (with the key here: an insider who holds AUDIT_KEY too; only the anchors catch that)."""
    rows = list(session.scalars(select(AuditEntry).where(AuditEntry.id >= start_id).order_by(AuditEntry.id)))
    prev = session.scalar(select(AuditEntry.hash).where(AuditEntry.id < start_id)
                          .order_by(AuditEntry.id.desc()).limit(1)) or audit.GENESIS
    for e in rows:
        e.prev_hash = prev
        e.hash = audit.entry_hash(e, key)
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
        assert _verify(s) == []                 # the shorter chain alone looks whole
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
        _recompute_from(s, ids[6], _key())
        assert _verify(s) == []                 # recomputed with the key: the chain alone cannot tell
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


# Keyed lines (version 2: HMAC-SHA256 with AUDIT_KEY) -------------------------------------------------

def _rehash_without_key(session, start_id, *, as_version, guessed_key=None):
    """A tamperer with the database but not AUDIT_KEY: re-link and re-hash every line from start_id
    on, with plain SHA-256 (keeping version 2 or claiming version 1) or with a guessed key."""
    rows = list(session.scalars(select(AuditEntry).where(AuditEntry.id >= start_id).order_by(AuditEntry.id)))
    prev = session.scalar(select(AuditEntry.hash).where(AuditEntry.id < start_id)
                          .order_by(AuditEntry.id.desc()).limit(1)) or audit.GENESIS
    for e in rows:
        e.prev_hash = prev
        e.version = as_version
        e.hash = audit.compute_hash(e.prev_hash, e.at, e.actor_id, e.action, e.target, e.detail,
                                    key=guessed_key)
        prev = e.hash
    session.commit()


def test_new_lines_are_keyed_hmacs(any_app):
    import hashlib
    import hmac
    with any_app.app_context():
        s = db.session
        ids = _fill(s, 3)
        s.expire_all()
        e = s.get(AuditEntry, ids[1])
        assert e.version == 2
        data = audit.canonical(e.prev_hash, e.at, e.actor_id, e.action, e.target, e.detail)
        assert e.hash == hmac.new(_key().encode(), data, hashlib.sha256).hexdigest()
        assert e.hash != hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("how", ["sha256_as_v2", "sha256_as_v1", "guessed_key"])
def test_rewrite_recomputed_without_the_key_is_caught_after_the_last_anchor(any_app, tmp_path, how):
    path = tmp_path / "anchors.log"
    with any_app.app_context():
        s = db.session
        ids = _fill(s, 10)
        audit.append_anchor(path, audit.anchor(s, T0 + timedelta(days=1)))
        more = _fill(s, 10)[10:]
        e = s.get(AuditEntry, more[4])               # a middle line, written after the last anchor
        e.detail = "nothing happened"
        s.commit()
        if how == "sha256_as_v2":
            _rehash_without_key(s, more[4], as_version=2)
        elif how == "sha256_as_v1":
            _rehash_without_key(s, more[4], as_version=1)
        else:
            _rehash_without_key(s, more[4], as_version=2, guessed_key="g" * 64)
        s.expire_all()
        anchors, _ = audit.read_anchors(path)
        assert anchors[-1]["id"] == ids[-1]
        assert audit.verify_anchors(s, anchors) == []    # the anchors alone cannot tell
        problems = _verify(s)
        # Every recomputed line is reported, by its id, and none before it.
        assert [p.split(":")[0] for p in problems] == [f"entry {i}" for i in more[4:]]
        if how == "sha256_as_v1":
            assert f"unkeyed line after keyed entry {ids[0]}" in problems[0]
        else:
            assert "hash mismatch" in problems[0]


def test_the_right_key_verifies_and_a_wrong_key_does_not(any_app):
    with any_app.app_context():
        s = db.session
        ids = _fill(s, 5)
        assert audit.verify(s, key=_key()) == []
        assert audit.verify(s, key=_key().encode()) == []
        wrong = audit.verify(s, key="w" * 64)
        assert [p.split(":")[0] for p in wrong] == [f"entry {i}" for i in ids]
        assert "AUDIT_KEY is not the key it was written with" in wrong[0]
        without = audit.verify(s, key=None)
        assert len(without) == 1 and f"entry {ids[0]}" in without[0] and "without AUDIT_KEY" in without[0]


def test_old_unkeyed_lines_still_verify_and_the_chain_goes_on_keyed(any_app):
    with any_app.app_context():
        s = db.session
        prev = audit.GENESIS
        for i in range(4):                           # as written before keying: version 1, SHA-256
            at = T0 + timedelta(minutes=i)
            h = audit.compute_hash(prev, at, 1, "signin", "", f"old {i}")
            s.execute(text("INSERT INTO audit_log (at, actor_id, action, target, detail, prev_hash, hash) "
                           "VALUES (:at, 1, 'signin', '', :d, :p, :h)"),
                      {"at": at, "d": f"old {i}", "p": prev, "h": h})
            prev = h
        s.commit()
        old_ids = list(s.scalars(select(AuditEntry.id).order_by(AuditEntry.id)))
        assert [v for v in s.scalars(select(AuditEntry.version).order_by(AuditEntry.id))] == [1] * 4
        assert _verify(s) == []
        assert audit.verify(s, key=None) == []       # no keyed line yet: nothing needs the key
        new = audit.record(s, key=_key(), actor_id=2, action="signin", now=T0 + timedelta(hours=1))
        s.commit()
        assert new.version == 2 and new.prev_hash == prev
        assert _verify(s) == []
        s.execute(text("UPDATE audit_log SET detail = 'edited' WHERE id = :i"), {"i": old_ids[1]})
        s.commit()
        problems = _verify(s)
        assert len(problems) == 1 and f"entry {old_ids[1]}" in problems[0] and "edited" in problems[0]


def test_no_key_no_line(any_app):
    with any_app.app_context():
        for key in (None, ""):
            with pytest.raises(audit.AuditKeyMissing):
                audit.record(db.session, key=key, actor_id=None, action="x")
        db.session.rollback()
        assert audit.count(db.session) == 0


def test_audit_verify_command_reports_a_rewrite_with_the_line_id(app, tmp_path):
    app.config["AUDIT_ANCHOR_PATH"] = str(tmp_path / "anchors.log")
    with app.app_context():
        ids = _fill(db.session, 6)
        runner = app.test_cli_runner()
        assert runner.invoke(args=["audit", "anchor"]).exit_code == 0
        more = _fill(db.session, 3)[6:]
        _rehash_without_key(db.session, more[1], as_version=2)
        r = runner.invoke(args=["audit", "verify"])
        assert r.exit_code == 1 and f"entry {more[1]}: hash mismatch" in r.output
        assert f"entry {ids[-1]}" not in r.output
