"""The audit log: append-only and hash-chained, so that an edited or deleted line shows.

Each line stores the hash of the line before it (`prev_hash`, 64 zeros for the first line) and its
own `hash` over a canonical serialisation of prev_hash, the time (ISO 8601 in UTC with
microseconds), actor, action, target and detail, joined with the unit separator (0x1f). The row id
is not hashed: the chain, not the id, is the order of record; `verify()` checks that both agree.

Versions (column `version`):
  1  plain SHA-256 of the canonical form: lines written before keyed hashing. Anyone with write
     access to the database can recompute them, so they stay verifiable as they are, no more.
  2  HMAC-SHA256 of the same canonical form, keyed with AUDIT_KEY, a key that is never in the
     database: rewriting a line and recomputing the chain needs the key. Every new line is v2;
     `record()` refuses to write without a key, and `verify()` reports a v1 line written after a
     v2 line (a rewrite that dropped back to unkeyed hashes).

Two writers must not fork the chain (both linking to the same last line):
  - PostgreSQL: a transaction-scoped advisory lock is taken before the last hash is read; it is
    held until the caller commits or rolls back, so the next writer reads our line.
  - SQLite: the new row is inserted first, which takes the database's single write lock for the
    rest of the transaction, and only then is the line before it read and the hashes set. (The
    Python driver runs a SELECT outside any transaction, so reading first would not be safe.)

Limit of any hash chain kept in the same database, keyed or not: deleting the *last* lines leaves
a shorter but valid chain. Anchors (below) note the head outside the database and catch that.

No Flask here: the caller commits.
"""
from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timezone

from sqlalchemy import bindparam, func, select, text
from sqlalchemy.orm import Session

from ..models import AuditEntry, as_utc

GENESIS = "0" * 64
SEP = "\x1f"
# pg_advisory_xact_lock key: "AUDITLOG" read as a big-endian 64-bit integer, kept within bigint.
ADVISORY_LOCK_KEY = int.from_bytes(b"AUDITLOG", "big") & 0x7FFF_FFFF_FFFF_FFFF

_ACTION_MAX, _TARGET_MAX, _DETAIL_MAX = 40, 80, 400
UNKEYED, KEYED = 1, 2          # AuditEntry.version


class AuditKeyMissing(RuntimeError):
    """An audit line cannot be written (or a keyed line checked) without AUDIT_KEY."""


def _key_bytes(key: str | bytes) -> bytes:
    return key if isinstance(key, bytes) else key.encode("utf-8")


def canonical(prev_hash: str, at: datetime, actor_id: int | None, action: str, target: str,
              detail: str) -> bytes:
    fields = (
        prev_hash,
        as_utc(at).isoformat(timespec="microseconds"),
        "" if actor_id is None else str(int(actor_id)),
        action or "",
        target or "",
        detail or "",
    )
    return SEP.join(fields).encode("utf-8")


def compute_hash(prev_hash: str, at: datetime, actor_id: int | None, action: str, target: str,
                 detail: str, *, key: str | bytes | None = None) -> str:
    """Version 1 (no key): SHA-256; version 2 (with the key): HMAC-SHA256."""
    data = canonical(prev_hash, at, actor_id, action, target, detail)
    if key is None:
        return hashlib.sha256(data).hexdigest()
    return hmac.new(_key_bytes(key), data, hashlib.sha256).hexdigest()


def entry_hash(entry: AuditEntry, key: str | bytes | None = None) -> str:
    """The hash of the line as its version computes it (the key is needed for version 2)."""
    if (entry.version or UNKEYED) == UNKEYED:
        key = None
    elif key is None:
        raise AuditKeyMissing("a keyed audit line needs AUDIT_KEY")
    return compute_hash(entry.prev_hash, entry.at, entry.actor_id, entry.action, entry.target,
                        entry.detail, key=key)


def _dialect(session: Session) -> str:
    bind = session.get_bind()
    return bind.dialect.name


# The statements record() runs, built once (a line is written on every back-office view).
_TABLE = AuditEntry.__table__
_LOCK = text("SELECT pg_advisory_xact_lock(:k)")
_LAST_HASH = select(_TABLE.c.hash).order_by(_TABLE.c.id.desc()).limit(1)
_HASH_BEFORE = (select(_TABLE.c.hash).where(_TABLE.c.id < bindparam("line_id"))
                .order_by(_TABLE.c.id.desc()).limit(1))
_INSERT = _TABLE.insert()
# SQLite: one statement writes the line (taking the write lock first: a writing statement asks for it
# before it reads) and reads the hash it follows; a second one sets its own hash.
_INSERT_AFTER_LAST = (_TABLE.insert()
                      .values(prev_hash=func.coalesce(_LAST_HASH.scalar_subquery(), GENESIS))
                      .returning(_TABLE.c.id, _TABLE.c.prev_hash))
_SET_HASH = _TABLE.update().where(_TABLE.c.id == bindparam("line_id")).values(hash=bindparam("line_hash"))
_LINK = (_TABLE.update().where(_TABLE.c.id == bindparam("line_id"))
         .values(prev_hash=bindparam("line_prev"), hash=bindparam("line_hash")))


def record(session: Session, *, key: str | bytes | None, actor_id: int | None, action: str,
           target: str = "", detail: str = "", now: datetime | None = None) -> AuditEntry:
    """Append one keyed (version 2) line to the log (written, not committed). Texts are cut to the
    column sizes before hashing, so what is stored is exactly what was hashed. Raises
    AuditKeyMissing when `key` (AUDIT_KEY) is empty: an unkeyed line is never written. Returns the
    line as written (not attached to the session)."""
    if not key:
        raise AuditKeyMissing("audit lines are keyed with AUDIT_KEY; none is configured here")
    at = as_utc(now or datetime.now(timezone.utc))
    action = (action or "")[:_ACTION_MAX]
    target = (target or "")[:_TARGET_MAX]
    detail = (detail or "")[:_DETAIL_MAX]
    line = {"at": at, "actor_id": actor_id, "action": action, "target": target, "detail": detail,
            "version": KEYED}
    session.flush()            # the caller's pending changes first, in their usual order
    conn = session.connection()
    if _dialect(session) == "postgresql":
        conn.execute(_LOCK, {"k": ADVISORY_LOCK_KEY})
        prev_hash = conn.execute(_LAST_HASH).scalar() or GENESIS
        digest = compute_hash(prev_hash, at, actor_id, action, target, detail, key=key)
        entry_id = conn.execute(_INSERT, dict(line, prev_hash=prev_hash, hash=digest)).inserted_primary_key[0]
        return AuditEntry(id=entry_id, prev_hash=prev_hash, hash=digest, **line)
    if _dialect(session) == "sqlite":
        entry_id, prev_hash = conn.execute(_INSERT_AFTER_LAST, dict(line, hash="")).one()
        digest = compute_hash(prev_hash, at, actor_id, action, target, detail, key=key)
        conn.execute(_SET_HASH, {"line_id": entry_id, "line_hash": digest})
        return AuditEntry(id=entry_id, prev_hash=prev_hash, hash=digest, **line)
    # Anything else: write first to hold the write lock, then link.
    entry_id = conn.execute(_INSERT, dict(line, prev_hash="", hash="")).inserted_primary_key[0]
    prev_hash = conn.execute(_HASH_BEFORE, {"line_id": entry_id}).scalar() or GENESIS
    digest = compute_hash(prev_hash, at, actor_id, action, target, detail, key=key)
    conn.execute(_LINK, {"line_id": entry_id, "line_prev": prev_hash, "line_hash": digest})
    return AuditEntry(id=entry_id, prev_hash=prev_hash, hash=digest, **line)


def head(session: Session) -> str:
    """The hash of the last line (64 zeros when the log is empty)."""
    return session.scalar(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)) or GENESIS


def count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(AuditEntry)) or 0


def verify(session: Session, *, key: str | bytes | None, batch: int = 1000) -> list[str]:
    """Walk the log in id order; return one line per problem found, [] when the chain is whole.
    Version-1 lines are checked unkeyed, version-2 lines with `key` (AUDIT_KEY): a wrong key, or a
    line rewritten and recomputed by someone without the key, shows as a hash mismatch. Without a
    key, keyed lines cannot be checked and that is reported (once) as a problem."""
    problems: list[str] = []
    prev: tuple[int, str] | None = None          # (id, hash) of the line before
    first_keyed: int | None = None
    no_key_reported = False
    rows = session.execute(
        select(AuditEntry.id, AuditEntry.at, AuditEntry.actor_id, AuditEntry.action,
               AuditEntry.target, AuditEntry.detail, AuditEntry.prev_hash, AuditEntry.hash,
               AuditEntry.version)
        .order_by(AuditEntry.id)
        .execution_options(yield_per=batch)
    )
    for row in rows:
        version = row.version or UNKEYED
        if version == KEYED:
            first_keyed = row.id if first_keyed is None else first_keyed
            if not key:
                if not no_key_reported:
                    problems.append(f"entry {row.id}: keyed lines from here on cannot be checked "
                                    "without AUDIT_KEY")
                    no_key_reported = True
            elif compute_hash(row.prev_hash, row.at, row.actor_id, row.action, row.target,
                              row.detail, key=key) != row.hash:
                problems.append(f"entry {row.id}: hash mismatch: the line was edited, "
                                "or AUDIT_KEY is not the key it was written with")
        elif version == UNKEYED:
            if first_keyed is not None:
                problems.append(f"entry {row.id}: unkeyed line after keyed entry {first_keyed}: "
                                "the line was rewritten")
            elif compute_hash(row.prev_hash, row.at, row.actor_id, row.action, row.target,
                              row.detail) != row.hash:
                problems.append(f"entry {row.id}: hash mismatch: the line was edited")
        else:
            problems.append(f"entry {row.id}: unknown version {version}")
        expected = prev[1] if prev else GENESIS
        if row.prev_hash != expected:
            problems.append(_link_problem(session, row.id, row.prev_hash, prev))
        prev = (row.id, row.hash)
    return problems


def _link_problem(session: Session, entry_id: int, prev_hash: str, prev: tuple[int, str] | None) -> str:
    if prev is None:
        if prev_hash == "":
            return f"entry {entry_id}: not linked to the chain"
        return f"entry {entry_id}: the first line does not start the chain: lines before it were deleted"
    if prev_hash == "":
        return f"entry {entry_id}: not linked to the chain"
    other = session.scalar(select(AuditEntry.id).where(AuditEntry.hash == prev_hash)
                           .order_by(AuditEntry.id).limit(1))
    if other is None:
        return (f"entry {entry_id}: previous hash does not match entry {prev[0]}: "
                "a line before it was deleted or edited")
    if other > entry_id:
        return f"entry {entry_id}: ids out of order: it follows entry {other} in the chain"
    if other == entry_id:
        return f"entry {entry_id}: links to itself"
    return (f"entry {entry_id}: ids out of order: it follows entry {other} in the chain, "
            f"not entry {prev[0]} (a fork or a reordering)")


# Anchors: the chain's head noted outside the database ------------------------------------------
# A chain kept in the database cannot show that its newest lines were deleted, nor that it was
# rewritten and recomputed from some line on. An anchor notes (last id, its hash, how many lines up
# to it, when) in an append-only file outside the database; `verify_anchors` then catches both.

def anchor(session: Session, now: datetime) -> dict:
    """The anchor of the log as it is now."""
    last = session.execute(select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)).first()
    return {"at": as_utc(now).isoformat(timespec="seconds"), "id": last.id if last else 0,
            "hash": last.hash if last else GENESIS, "count": count(session)}


def append_anchor(path, record: dict) -> None:
    """Append one anchor line (JSON) to the file, created with mode 600; never rewritten."""
    import json
    import os
    fd = os.open(str(path), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as f:
        f.write(json.dumps(record, sort_keys=True) + "\n")


def read_anchors(path) -> tuple[list[dict], list[str]]:
    """(anchors, problems) from the anchor file; a missing file has none."""
    import json
    from pathlib import Path
    p = Path(path)
    if not p.exists():
        return [], []
    anchors, problems = [], []
    for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            anchors.append({"at": str(rec["at"]), "id": int(rec["id"]), "hash": str(rec["hash"]),
                            "count": int(rec["count"])})
        except (ValueError, KeyError, TypeError):
            problems.append(f"anchor file line {n}: unreadable")
    return anchors, problems


def verify_anchors(session: Session, anchors: list[dict]) -> list[str]:
    """One line per anchor the log no longer matches: its anchored line missing or different
    (deleted, or rewritten and recomputed), or not as many lines up to it as when anchored."""
    problems = []
    for a in anchors:
        if a["id"] == 0:
            continue
        row = session.get(AuditEntry, a["id"])
        if row is None:
            problems.append(f"anchor of {a['at']}: entry {a['id']} is missing: lines were deleted")
            continue
        if row.hash != a["hash"]:
            problems.append(f"anchor of {a['at']}: entry {a['id']} differs from the anchored one: the log was rewritten")
        n = session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.id <= a["id"])) or 0
        if n != a["count"]:
            problems.append(f"anchor of {a['at']}: {n} entries up to {a['id']}, {a['count']} when anchored: "
                            "lines were deleted or added")
    return problems
