"""The database tables (SQLAlchemy 2 declarative). Schema changes go through Alembic (portal/migrations).

What is stored in clear is only what the queue and the statistics need and what identifies nobody:
département, territory, urgency, categories, age band, sex, source type, language, dates, status.
Everything a person typed (names, addresses, accounts, free text) and every attachment is sealed
to the receiving CRIP's public key (see portal.domain.sealing) before it reaches these tables.
"""
from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import (
    BigInteger, Boolean, Date, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(dt: datetime | None) -> datetime | None:
    """The same instant as an aware UTC datetime; a naive datetime is taken as UTC."""
    if dt is None:
        return None
    return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt.astimezone(timezone.utc)


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always read back as an aware UTC datetime, whatever the database
    (SQLite keeps no time zone and gives back naive values; PostgreSQL gives the session's zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return as_utc(value)

    def process_result_value(self, value, dialect):
        return as_utc(value)


class Base(DeclarativeBase):
    pass


class CripKey(Base):
    """A CRIP's public key. The private half never enters this database in clear."""
    __tablename__ = "crip_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    departement: Mapped[str] = mapped_column(String(3), index=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Draft(Base):
    """A form in progress, encrypted with a key that only the sender's browser holds (cookie)."""
    __tablename__ = "drafts"
    id: Mapped[str] = mapped_column(String(43), primary_key=True)
    departement: Mapped[str] = mapped_column(String(3))
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    submission_token: Mapped[str] = mapped_column(String(43), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # Once sent: the IP it became, and the confirmation (reference + follow-up code) sealed with the
    # draft key so that a double post or a refresh shows the very same confirmation.
    ip_id: Mapped[int | None] = mapped_column(ForeignKey("ips.id", ondelete="SET NULL"), nullable=True)
    confirmation: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    files: Mapped[list[DraftFile]] = relationship(
        back_populates="draft", cascade="all, delete-orphan", order_by="DraftFile.id")


class DraftFile(Base):
    __tablename__ = "draft_files"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    draft_id: Mapped[str] = mapped_column(ForeignKey("drafts.id", ondelete="CASCADE"), index=True)
    # The content, encrypted with the draft key; loaded only when asked for (one file at a time).
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    # {"name", "mime"} encrypted with the draft key (since 0006; before, they led the content).
    meta: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    draft: Mapped[Draft] = relationship(back_populates="files")


class InformationPreoccupante(Base):
    """One IP: coded fields in clear for the queue and statistics, the rest sealed."""
    __tablename__ = "ips"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    submission_token: Mapped[str | None] = mapped_column(String(43), unique=True, nullable=True)
    # The CRIP whose queue holds it (a département this instance serves) ...
    received_by: Mapped[str] = mapped_column(String(3), index=True)
    # ... and where the child lives according to routing.
    routing_status: Mapped[str] = mapped_column(String(10))     # routed | transfer | unrouted
    departement: Mapped[str | None] = mapped_column(String(3), nullable=True)
    territory: Mapped[str | None] = mapped_column(String(40), nullable=True)
    channel: Mapped[str] = mapped_column(String(12), default="online")
    source_type: Mapped[str] = mapped_column(String(12))        # public | professional | young
    source_sector: Mapped[str | None] = mapped_column(String(20), nullable=True)
    language: Mapped[str] = mapped_column(String(8))            # language the form was filled in
    contact_language: Mapped[str | None] = mapped_column(String(8), nullable=True)
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    wants_feedback: Mapped[bool] = mapped_column(Boolean, default=False)
    danger_now: Mapped[bool] = mapped_column(Boolean, default=False)
    child_count: Mapped[int] = mapped_column(Integer, default=1)
    youngest_age_band: Mapped[str] = mapped_column(String(8))   # see domain.priority.AGE_BANDS
    urgency: Mapped[int] = mapped_column(Integer)               # 1 immediate, 2 high, 3 normal
    urgency_reasons: Mapped[str] = mapped_column(String(200), default="")
    probably_automated: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20), default="new")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    analysis_due: Mapped[date] = mapped_column(Date)
    evaluation_due: Mapped[date] = mapped_column(Date)
    crip_key_id: Mapped[int] = mapped_column(ForeignKey("crip_keys.id"))
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    # Workflow (CRIP back office)
    taken_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)
    assigned_team: Mapped[str | None] = mapped_column(String(40), nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(20), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    signalement_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    transfer_to: Mapped[str | None] = mapped_column(String(3), nullable=True)
    # Routing between CRIPs: the département whose site received it, when another CRIP holds it.
    received_via: Mapped[str | None] = mapped_column(String(3), nullable=True)
    # What a professional said about a signalement to the procureur: no | yes | planned.
    sender_signalement: Mapped[str | None] = mapped_column(String(8), nullable=True)
    # Feedback owed to a professional or an elected official (CASF L226-5): due 3 months after sending.
    feedback_due: Mapped[date | None] = mapped_column(Date, nullable=True)
    feedback_given_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    # The written notice to the parents when the situation goes to the judicial authority (L226-5).
    parents_notified_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    children: Mapped[list[IpChild]] = relationship(
        back_populates="ip", cascade="all, delete-orphan", order_by="IpChild.position")
    categories: Mapped[list[IpCategory]] = relationship(
        back_populates="ip", cascade="all, delete-orphan")
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="ip", cascade="all, delete-orphan", order_by="Attachment.id")
    followup: Mapped[FollowUp | None] = relationship(back_populates="ip", cascade="all, delete-orphan")
    messages: Mapped[list[Message]] = relationship(
        back_populates="ip", cascade="all, delete-orphan", order_by="Message.id")

    __table_args__ = (
        Index("ix_ips_queue", "received_by", "urgency", "received_at", "id"),
        Index("ix_ips_status", "received_by", "status"),
        Index("ix_ips_received", "received_by", "received_at"),
        Index("ix_ips_feedback", "received_by", "feedback_due"),
    )


class IpChild(Base):
    __tablename__ = "ip_children"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ip_id: Mapped[int] = mapped_column(ForeignKey("ips.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    age_band: Mapped[str] = mapped_column(String(8))
    sex: Mapped[str] = mapped_column(String(1))     # f | m | x (other / unknown)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    # Blind indexes (HMAC, key derived from the CRIP private key; see domain.blindindex), computed when
    # staff open the IP: normalised name + birth date, and the weaker family name + commune.
    child_index: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    family_hint: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    # What the queue shows of these answers (the commune), encrypted with a key derived from the CRIP
    # private key: made by the CRIP's side when the queue first shows the IP (see domain.desk_digest).
    desk_digest: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    ip: Mapped[InformationPreoccupante] = relationship(back_populates="children")


class IpCategory(Base):
    __tablename__ = "ip_categories"
    ip_id: Mapped[int] = mapped_column(ForeignKey("ips.id", ondelete="CASCADE"), primary_key=True)
    category: Mapped[str] = mapped_column(String(24), primary_key=True)
    ip: Mapped[InformationPreoccupante] = relationship(back_populates="categories")


class Attachment(Base):
    __tablename__ = "attachments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ip_id: Mapped[int] = mapped_column(ForeignKey("ips.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), nullable=True)
    mime: Mapped[str] = mapped_column(String(80))
    size: Mapped[int] = mapped_column(Integer)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)   # sealed JSON-free blob: name + content
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ip: Mapped[InformationPreoccupante] = relationship(back_populates="attachments")


class FollowUp(Base):
    """The private follow-up channel: found by a keyed hash of the code, never the code itself."""
    __tablename__ = "followups"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ip_id: Mapped[int] = mapped_column(ForeignKey("ips.id", ondelete="CASCADE"), unique=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kdf_salt: Mapped[bytes] = mapped_column(LargeBinary(16))
    # How the key pair is derived from the code (sealing.FOLLOWUP_KDFS); rows made before 0005 say argon2id.
    kdf: Mapped[str] = mapped_column(String(16), default="blake2b", server_default="argon2id")
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The current follow-up session (a random nonce the cookie must match); cleared at sign-out.
    session_nonce: Mapped[str | None] = mapped_column(String(43), nullable=True)
    ip: Mapped[InformationPreoccupante] = relationship(back_populates="followup")


class Message(Base):
    """A message on the follow-up channel, sealed to each party that may read it."""
    __tablename__ = "messages"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ip_id: Mapped[int] = mapped_column(ForeignKey("ips.id", ondelete="CASCADE"), index=True)
    direction: Mapped[str] = mapped_column(String(10))      # to_crip | to_sender
    sealed_for_crip: Mapped[bytes] = mapped_column(LargeBinary)
    sealed_for_sender: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ip: Mapped[InformationPreoccupante] = relationship(back_populates="messages")


# CRIP back office -------------------------------------------------------------------------------

class StaffUser(Base):
    """A CRIP staff account. Deactivated, never deleted, so that the audit log stays whole."""
    __tablename__ = "staff_users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(12))            # agent | supervisor | evaluator | admin
    departement: Mapped[str] = mapped_column(String(3))
    territory: Mapped[str | None] = mapped_column(String(40), nullable=True)   # evaluator's team
    password_hash: Mapped[str] = mapped_column(String(200))
    totp_secret: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)   # encrypted
    totp_enrolled: Mapped[bool] = mapped_column(Boolean, default=False)
    recovery_codes: Mapped[str] = mapped_column(Text, default="")   # keyed hashes, comma-separated
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)    # bumped by "sign out everywhere"
    # The last TOTP time step accepted: a code (its step or an earlier one) never works twice.
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    key_salt: Mapped[bytes | None] = mapped_column(LargeBinary(16), nullable=True)
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)   # CRIP key, wrapped
    last_queue_view_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    language: Mapped[str | None] = mapped_column(String(8), nullable=True)   # back office language
    # Set while the password is a one-time enrolment secret given by a key holder.
    password_must_change: Mapped[bool] = mapped_column(Boolean, default=False)


class StaffSession(Base):
    """A back-office session, server-side. Found by a hash of the random session id the cookie
    carries; the CRIP key and the enrolment secret are encrypted with a per-session key that only
    the cookie holds. Signing out or idling deletes the row, and with it any use of the cookie."""
    __tablename__ = "staff_sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)         # SHA-256 of the session id
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"), index=True)
    epoch: Mapped[int] = mapped_column(Integer)
    stage: Mapped[str] = mapped_column(String(10))                        # password | enrol | full
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    sealed_key: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    sealed_enrol: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)


class IpEvent(Base):
    """One step of an IP's workflow: who, when, from which status to which, and why (sealed)."""
    __tablename__ = "ip_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ip_id: Mapped[int] = mapped_column(ForeignKey("ips.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)
    from_status: Mapped[str] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    reason_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)


class IpTransfer(Base):
    """What a CRIP keeps of an IP it transferred to another CRIP of this instance: a stub with the
    reference and the destination, no content (the IP itself, re-sealed, is the destination's)."""
    __tablename__ = "ip_transfers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), index=True)
    from_departement: Mapped[str] = mapped_column(String(3), index=True)
    to_departement: Mapped[str] = mapped_column(String(3))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)


class IpLink(Base):
    """Two IPs about the same child (or household)."""
    __tablename__ = "ip_links"
    ip_id: Mapped[int] = mapped_column(ForeignKey("ips.id", ondelete="CASCADE"), primary_key=True)
    linked_ip_id: Mapped[int] = mapped_column(ForeignKey("ips.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditEntry(Base):
    """Append-only, hash-chained audit log: each line's hash covers the previous line's hash."""
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(80), default="")
    detail: Mapped[str] = mapped_column(String(400), default="")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    # 1: SHA-256 (lines written before keyed hashing); 2: HMAC-SHA256 with AUDIT_KEY.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class OutboxMail(Base):
    """Notifications waiting to be sent by `flask outbox send`; never any content of an IP."""
    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recipient: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(30))
    dedup_key: Mapped[str | None] = mapped_column(String(120), unique=True, nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
