"""The audit log: append-only and hash-chained, so that an edited or deleted line shows.

Each line stores the hash of the line before it (`prev_hash`, 64 zeros for the first line) and its
own `hash`: SHA-256 over a canonical serialisation of prev_hash, the time (ISO 8601 in UTC with
microseconds), actor, action, target and detail, joined with the unit separator (0x1f). The row id
is not hashed: the chain, not the id, is the order of record; `verify()` checks that both agree.

Two writers must not fork the chain (both linking to the same last line):
  - PostgreSQL: a transaction-scoped advisory lock is taken before the last hash is read; it is
    held until the caller commits or rolls back, so the next writer reads our line.
  - SQLite: the new row is inserted first, which takes the database's single write lock for the
    rest of the transaction, and only then is the line before it read and the hashes set. (The
    Python driver runs a SELECT outside any transaction, so reading first would not be safe.)

Limit of any hash chain kept in the same database: deleting the *last* lines leaves a shorter but
valid chain. `head()` gives the last hash so that it can be noted elsewhere (a log, a printout).

No Flask here: the caller commits.
"""
from __future__ import annotations

import hashlib
from datetime import datetime, timezone

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from ..models import AuditEntry, as_utc

GENESIS = "0" * 64
SEP = "\x1f"
# pg_advisory_xact_lock key: "AUDITLOG" read as a big-endian 64-bit integer, kept within bigint.
ADVISORY_LOCK_KEY = int.from_bytes(b"AUDITLOG", "big") & 0x7FFF_FFFF_FFFF_FFFF

_ACTION_MAX, _TARGET_MAX, _DETAIL_MAX = 40, 80, 400


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
                 detail: str) -> str:
    return hashlib.sha256(canonical(prev_hash, at, actor_id, action, target, detail)).hexdigest()


def entry_hash(entry: AuditEntry) -> str:
    return compute_hash(entry.prev_hash, entry.at, entry.actor_id, entry.action, entry.target,
                        entry.detail)


def _dialect(session: Session) -> str:
    bind = session.get_bind()
    return bind.dialect.name


def record(session: Session, *, actor_id: int | None, action: str, target: str = "",
           detail: str = "", now: datetime | None = None) -> AuditEntry:
    """Append one line to the log (flushed, not committed). Texts are cut to the column sizes
    before hashing, so what is stored is exactly what was hashed."""
    at = as_utc(now or datetime.now(timezone.utc))
    action = (action or "")[:_ACTION_MAX]
    target = (target or "")[:_TARGET_MAX]
    detail = (detail or "")[:_DETAIL_MAX]
    if _dialect(session) == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": ADVISORY_LOCK_KEY})
        prev = session.scalar(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1))
        prev_hash = prev or GENESIS
        entry = AuditEntry(at=at, actor_id=actor_id, action=action, target=target, detail=detail,
                           prev_hash=prev_hash,
                           hash=compute_hash(prev_hash, at, actor_id, action, target, detail))
        session.add(entry)
        session.flush()
        return entry
    # SQLite (and anything else): write first to hold the write lock, then link.
    entry = AuditEntry(at=at, actor_id=actor_id, action=action, target=target, detail=detail,
                       prev_hash="", hash="")
    session.add(entry)
    session.flush()
    prev = session.scalar(select(AuditEntry.hash).where(AuditEntry.id < entry.id)
                          .order_by(AuditEntry.id.desc()).limit(1))
    entry.prev_hash = prev or GENESIS
    entry.hash = compute_hash(entry.prev_hash, at, actor_id, action, target, detail)
    session.flush()
    return entry


def head(session: Session) -> str:
    """The hash of the last line (64 zeros when the log is empty)."""
    return session.scalar(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)) or GENESIS


def count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(AuditEntry)) or 0


def verify(session: Session, *, batch: int = 1000) -> list[str]:
    """Walk the log in id order; return one line per problem found, [] when the chain is whole."""
    problems: list[str] = []
    prev: tuple[int, str] | None = None          # (id, hash) of the line before
    rows = session.execute(
        select(AuditEntry.id, AuditEntry.at, AuditEntry.actor_id, AuditEntry.action,
               AuditEntry.target, AuditEntry.detail, AuditEntry.prev_hash, AuditEntry.hash)
        .order_by(AuditEntry.id)
        .execution_options(yield_per=batch)
    )
    for row in rows:
        if compute_hash(row.prev_hash, row.at, row.actor_id, row.action, row.target,
                        row.detail) != row.hash:
            problems.append(f"entry {row.id}: hash mismatch: the line was edited")
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
