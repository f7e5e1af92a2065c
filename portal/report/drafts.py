"""Drafts of the IP form: encrypted in the database with a key held only by the sender's browser.

The cookie `ipdraft` carries "<draft id>.<key>" (HttpOnly, SameSite=Lax, no expiry date: it
dies with the browser session). The database row holds only ciphertext, and it expires after
DRAFT_TTL_SECONDS without activity. Once sent, the row keeps the confirmation (sealed with the
same key) for CONFIRMATION_TTL_SECONDS so that a double post or a refresh shows the same page.
"""
from __future__ import annotations

import json
import re
import secrets
import time
from datetime import datetime, timedelta

from flask import current_app, g, request
from sqlalchemy import bindparam, delete, func, select, update

from ..domain import sealing
from ..extensions import db
from ..models import Draft, DraftFile

COOKIE = "ipdraft"
# "<draft id>.<key>": token_urlsafe(24) is 32 characters, a 32-byte key 43 (base64url, no padding).
_COOKIE_SHAPE = re.compile(r"([A-Za-z0-9_-]{32})\.([A-Za-z0-9_-]{43})")


def _now():
    from ..web import now_utc
    return now_utc()


class TooManyFiles(Exception):
    """The draft already holds as many files as allowed."""


class DraftState:
    """The decrypted draft of this request. `record` is what reading a page needs (the columns of
    `_COLUMNS`, read without the ORM); `row`, the ORM object, is loaded only when something asks for it
    (sending, the files)."""

    def __init__(self, record, key: bytes, data: dict):
        self.key, self.data = key, data
        self._record = record
        self._row = record if isinstance(record, Draft) else None

    @property
    def row(self) -> Draft:
        if self._row is None:
            self._row = db.session.get(Draft, self._record.id)
        return self._row

    @property
    def id(self) -> str:
        return self._record.id

    @property
    def departement(self) -> str:
        return self._record.departement

    @property
    def sent(self) -> bool:
        return (self._row or self._record).ip_id is not None

    def save(self):
        ciphertext, now = sealing.encrypt_json(self.key, self.data), _now()
        if self._row is None:
            db.session.execute(update(Draft).where(Draft.id == self.id).values(ciphertext=ciphertext, updated_at=now))
        else:
            self._row.ciphertext, self._row.updated_at = ciphertext, now
        db.session.commit()

    def confirmation(self) -> dict | None:
        confirmation = (self._row or self._record).confirmation
        if confirmation is None:
            return None
        return sealing.decrypt_json(self.key, confirmation)

    def file_list(self) -> list[tuple[int, dict]]:
        """(id, {"name", "mime"}) of each attached file, without reading any content."""
        out = []
        for file_id, meta in db.session.execute(_FILES, {"draft_id": self.id}):
            if meta is not None:
                out.append((file_id, sealing.decrypt_json(self.key, meta)))
            else:                                   # stored before revision 0006
                out.append((file_id, self._old_blob(file_id)[0]))
        return out

    def file_data(self, file_id: int) -> bytes:
        """The content of one attached file (decrypted; only this one is loaded)."""
        row = db.session.execute(select(DraftFile.meta, DraftFile.ciphertext).where(
            DraftFile.id == file_id, DraftFile.draft_id == self.id)).one()
        if row.meta is None:
            return self._old_blob(file_id)[1]
        return sealing.decrypt(self.key, row.ciphertext)

    def _old_blob(self, file_id: int) -> tuple[dict, bytes]:
        blob = sealing.decrypt(self.key, db.session.scalar(select(DraftFile.ciphertext).where(DraftFile.id == file_id)))
        head, _, data = blob.partition(b"\n")
        return json.loads(head), data

    def files(self):
        """(id, meta, content) of every file: reads them all; prefer file_list and file_data."""
        return [(fid, meta, self.file_data(fid)) for fid, meta in self.file_list()]

    def add_file(self, name: str, mime: str, data: bytes, *, max_files: int):
        """Attach a file, unless the draft already has `max_files` (TooManyFiles): the count is
        taken under the draft's row lock, so parallel uploads cannot pass the limit together."""
        meta = sealing.encrypt_json(self.key, {"name": name, "mime": mime})
        ciphertext = sealing.encrypt(self.key, data)
        session = db.session
        # The UPDATE takes the lock (PostgreSQL: the draft's row; SQLite: the database's write lock)
        # before counting; a parallel upload waits here and then counts this one.
        session.execute(update(Draft).where(Draft.id == self.id).values(updated_at=_now()))
        count = session.scalar(select(func.count()).select_from(DraftFile).where(DraftFile.draft_id == self.id))
        if count >= max_files:
            session.rollback()
            raise TooManyFiles()
        session.add(DraftFile(draft_id=self.id, meta=meta, ciphertext=ciphertext, size=len(data)))
        del ciphertext
        session.commit()
        if self._row is not None:
            session.expire(self._row, ["files", "updated_at"])

    def remove_file(self, file_id: int) -> bool:
        for f in list(self.row.files):
            if f.id == file_id:
                self.row.files.remove(f)
                self.save()
                return True
        return False


def create(departement: str) -> tuple[DraftState, str]:
    key = sealing.new_secret_key()
    data = {"started_at": time.time(), "children": []}
    row = Draft(id=secrets.token_urlsafe(24), departement=departement,
                ciphertext=sealing.encrypt_json(key, data), submission_token=secrets.token_urlsafe(24),
                created_at=_now(), updated_at=_now())
    db.session.add(row)
    db.session.commit()
    return DraftState(row, key, data), f"{row.id}.{sealing.encode_key(key)}"


# What reading a page needs of a draft: one Core query on a pooled connection of its own (no ORM
# session, identity map or object built on the pages that only read it).
# (The statement is built once; each request only binds the draft's id.)
_COLUMNS = (Draft.id, Draft.departement, Draft.ciphertext, Draft.updated_at, Draft.ip_id, Draft.confirmation)
_READ = select(*_COLUMNS).where(Draft.id == bindparam("draft_id"))
_FILES = select(DraftFile.id, DraftFile.meta).where(DraftFile.draft_id == bindparam("draft_id")).order_by(DraftFile.id)


def load() -> DraftState | None:
    """The draft of this browser, or None (no cookie, unknown, expired, or unreadable)."""
    if "draft_state" in g:
        return g.draft_state
    raw = request.cookies.get(COOKIE, "")
    state = None
    match = _COOKIE_SHAPE.fullmatch(raw)
    if match:   # anything else (NUL bytes, bad encoding, wrong length) is a fresh start
        draft_id, key_text = match.group(1), match.group(2)
        with db.engine.connect() as connection:
            record = connection.execute(_READ, {"draft_id": draft_id}).first()
        if record is not None:
            ttl = current_app.config["CONFIRMATION_TTL_SECONDS" if record.ip_id else "DRAFT_TTL_SECONDS"]
            if record.updated_at + timedelta(seconds=ttl) < _now():
                db.session.execute(delete(Draft).where(Draft.id == record.id))   # its files: ON DELETE CASCADE
                db.session.commit()
            else:
                try:
                    key = sealing.decode_key(key_text)
                    state = DraftState(record, key, sealing.decrypt_json(key, record.ciphertext))
                except sealing.SealError:
                    state = None
    g.draft_state = state
    return state


def set_cookie(response, value: str):
    response.set_cookie(COOKIE, value, httponly=True, samesite="Lax", secure=current_app.config["HTTPS"],
                        path="/")


def clear_cookie(response):
    response.delete_cookie(COOKIE, path="/")


def purge_expired(session, now: datetime, draft_ttl: int, confirmation_ttl: int) -> int:
    """Delete drafts idle for longer than their TTL (run by `flask purge-drafts` and at sign-in)."""
    a = session.execute(delete(Draft).where(Draft.ip_id.is_(None),
                                            Draft.updated_at < now - timedelta(seconds=draft_ttl))).rowcount
    b = session.execute(delete(Draft).where(Draft.ip_id.is_not(None),
                                            Draft.updated_at < now - timedelta(seconds=confirmation_ttl))).rowcount
    session.commit()
    return (a or 0) + (b or 0)
