"""Back-office sessions, held server-side (no Flask here: the caller commits).

A session is a row found by the SHA-256 of a random 32-byte session id. The CRIP private key
unwrapped at sign-in, and the TOTP secret during enrolment, are stored in that row encrypted with a
random per-session key. The session id and the per-session key travel only in the staff cookie
(itself encrypted with the back office's secret, see portal.crip.auth). So:
  - the store alone (a copy of the database) opens nothing: it has neither the id nor the key;
  - the cookie alone opens nothing: once the row is deleted (sign-out, idle timeout, "sign out
    everywhere", password change, deactivation) the cookie names nothing and is never refreshed;
  - no server-wide secret opens a session's key either.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta, timezone
from functools import lru_cache

from sqlalchemy import and_, bindparam, delete, or_, select
from sqlalchemy.orm import Session

from ..models import StaffSession, StaffUser
from . import sealing

ID_BYTES = 32
TOUCH_SECONDS = 30          # seen_at is written at most this often (one write per half minute)
STAGES = ("password", "enrol", "full")


def _aware(dt: datetime) -> datetime:
    return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt


def row_id(session_id: bytes) -> str:
    return hashlib.sha256(session_id).hexdigest()


def start(session: Session, user: StaffUser, *, stage: str, crip_key: bytes | None,
          now: datetime) -> tuple[bytes, bytes]:
    """A new session; returns (session id, per-session key), for the cookie only."""
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}")
    session_id = secrets.token_bytes(ID_BYTES)
    key = sealing.new_secret_key()
    session.add(StaffSession(id=row_id(session_id), user_id=user.id, epoch=user.session_epoch, stage=stage,
                             created_at=now, seen_at=now,
                             sealed_key=sealing.encrypt(key, crip_key) if crip_key else None))
    session.flush()
    return session_id, key


@lru_cache(maxsize=1)
def _find_statement():
    """The session and its account in one round trip (built once: every back-office request runs it)."""
    return (select(StaffSession, StaffUser).outerjoin(StaffUser, StaffUser.id == StaffSession.user_id)
            .where(StaffSession.id == bindparam("session_row")))


def find(session: Session, session_id: bytes, *, now: datetime, idle_seconds: int,
         pending_seconds: int) -> tuple[StaffSession, StaffUser] | None:
    """The live session for this id and its account, or None. A session idle too long, or whose
    account was deactivated or signed out everywhere, is deleted on the spot. (The caller keeps the
    account: the session's identity map holds it weakly, and would read it again.)"""
    found = session.execute(_find_statement(), {"session_row": row_id(session_id)}).first()
    if found is None:
        return None
    row, user = found              # one round trip; the account stays in the session for current_user()
    limit = idle_seconds if row.stage == "full" else pending_seconds
    if (_aware(row.seen_at) + timedelta(seconds=limit) < now or user is None or not user.active
            or user.session_epoch != row.epoch):
        session.delete(row)
        session.flush()
        return None
    return row, user


def touch(row: StaffSession, now: datetime) -> bool:
    """Note activity (for the idle timeout); True when the row changed."""
    if now - _aware(row.seen_at) >= timedelta(seconds=TOUCH_SECONDS):
        row.seen_at = now
        return True
    return False


def promote(row: StaffSession, stage: str, now: datetime) -> None:
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}")
    row.stage = stage
    row.seen_at = now
    row.sealed_enrol = None


def crip_key(row: StaffSession, key: bytes) -> bytes | None:
    if row.sealed_key is None:
        return None
    try:
        return sealing.decrypt(key, row.sealed_key)
    except sealing.SealError:
        return None


def set_enrol_secret(row: StaffSession, key: bytes, secret: str) -> None:
    row.sealed_enrol = sealing.encrypt(key, secret.encode())


def enrol_secret(row: StaffSession, key: bytes) -> str | None:
    if row.sealed_enrol is None:
        return None
    try:
        return sealing.decrypt(key, row.sealed_enrol).decode()
    except (sealing.SealError, UnicodeDecodeError):
        return None


def end(session: Session, session_id: bytes) -> None:
    session.execute(delete(StaffSession).where(StaffSession.id == row_id(session_id)))


def end_all(session: Session, user_id: int) -> int:
    """Every session of this account (sign out everywhere, password change, deactivation)."""
    return session.execute(delete(StaffSession).where(StaffSession.user_id == user_id)).rowcount or 0


def purge_expired(session: Session, *, now: datetime, idle_seconds: int, pending_seconds: int) -> int:
    """Delete sessions nobody came back to (run at each sign-in: the table stays small)."""
    return session.execute(delete(StaffSession).where(or_(
        and_(StaffSession.stage == "full", StaffSession.seen_at < now - timedelta(seconds=idle_seconds)),
        and_(StaffSession.stage != "full", StaffSession.seen_at < now - timedelta(seconds=pending_seconds)),
    ))).rowcount or 0
