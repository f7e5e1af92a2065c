"""Staff accounts: argon2id passwords, TOTP second factor, recovery codes, lockout, wrapped CRIP key.

The CRIP private key that opens the IPs is stored only wrapped, once per staff member, with a key
derived from that person's password (argon2id). It is unwrapped at sign-in and held for that
session only. Deactivating an account removes its copy; a password change re-wraps it.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from ..models import StaffUser
from . import sealing

ROLES = ("agent", "supervisor", "evaluator", "admin")
READS_IPS = ("agent", "supervisor", "evaluator")
_ph = PasswordHasher()   # argon2id with the library's recommended parameters
MIN_PASSWORD = 12
RECOVERY_CODES = 10


class StaffError(ValueError):
    pass


def hash_password(password: str) -> str:
    return _ph.hash(password)


def check_password_strength(password: str) -> None:
    if len(password or "") < MIN_PASSWORD:
        raise StaffError(f"the password must have at least {MIN_PASSWORD} characters")


def _server_box_key(secret_key: str, purpose: bytes) -> bytes:
    return hashlib.blake2b(secret_key.encode(), digest_size=32, person=purpose[:16].ljust(16, b"\0")).digest()


def encrypt_totp_secret(secret_key: str, totp_secret: str) -> bytes:
    return sealing.encrypt(_server_box_key(secret_key, b"totp"), totp_secret.encode())


def decrypt_totp_secret(secret_key: str, blob: bytes) -> str:
    return sealing.decrypt(_server_box_key(secret_key, b"totp"), blob).decode()


def open_totp_secret(user: StaffUser, crip_secret: str, legacy_secret: str | None = None) -> str:
    """The account's TOTP secret, encrypted under the back office's secret (CRIP_SECRET_KEY). A
    secret still encrypted under the public site's SECRET_KEY (before the two were separated) is
    opened with it once and re-encrypted under the back office's secret."""
    try:
        return decrypt_totp_secret(crip_secret, user.totp_secret)
    except sealing.SealError:
        if not legacy_secret:
            raise
    secret = decrypt_totp_secret(legacy_secret, user.totp_secret)
    user.totp_secret = encrypt_totp_secret(crip_secret, secret)
    return secret


def session_key_box(secret_key: str) -> bytes:
    """The server-side key that encrypts a CRIP key held in a staff session cookie."""
    return _server_box_key(secret_key, b"staff-session")


def create_user(session: Session, *, email: str, name: str, role: str, departement: str, password: str,
                crip_private_key: bytes | None = None, territory: str | None = None) -> StaffUser:
    email = (email or "").strip().lower()
    if role not in ROLES:
        raise StaffError(f"role must be one of {', '.join(ROLES)}")
    if "@" not in email:
        raise StaffError("the e-mail address is not valid")
    check_password_strength(password)
    if session.scalar(select(StaffUser.id).where(func.lower(StaffUser.email) == email)) is not None:
        raise StaffError(f"an account already exists for {email}")
    if role == "evaluator" and not territory:
        raise StaffError("a territorial evaluator needs a territory (team)")
    if role in READS_IPS and crip_private_key is None:
        raise StaffError("this role reads IPs: give the CRIP private key (or recovery key) to wrap for the account")
    user = StaffUser(email=email, name=name, role=role, departement=departement, territory=territory,
                     password_hash=hash_password(password))
    if crip_private_key is not None and role in READS_IPS:
        wrap_for(user, password, crip_private_key)
    session.add(user)
    session.flush()
    return user


def wrap_for(user: StaffUser, password: str, private_key: bytes) -> None:
    user.key_salt = secrets.token_bytes(sealing.KDF_SALT_BYTES)
    user.wrapped_key = sealing.wrap_key(password, user.key_salt, private_key)


@dataclass
class SignIn:
    user: StaffUser | None
    problem: str | None        # None | "invalid" | "locked" | "inactive"
    crip_key: bytes | None = None


def authenticate(session: Session, *, email: str, password: str, now: datetime) -> SignIn:
    """Check the password (first factor). Never locks an account: anyone could lock a real agent
    out by guessing. Failures are slowed down instead, by the caller (see throttle_delay)."""
    email = (email or "").strip().lower()
    user = session.scalar(select(StaffUser).where(func.lower(StaffUser.email) == email))
    if user is None:
        _ph.hash(password or "x")   # same work whether or not the account exists
        return SignIn(None, "invalid")
    try:
        _ph.verify(user.password_hash, password or "")
    except (VerificationError, InvalidHashError):
        user.failed_logins += 1
        session.flush()
        return SignIn(None, "invalid")
    if not user.active:
        return SignIn(None, "inactive")
    user.failed_logins = 0
    if _ph.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    key = None
    if user.wrapped_key is not None:
        key = sealing.unwrap_key(password, user.key_salt, user.wrapped_key)
    session.flush()
    return SignIn(user, None, key)


def throttle_delay(failures: int, *, free: int, base_ms: int, max_ms: int) -> float:
    """Seconds to wait before answering a sign-in attempt on an account that had `failures` recent
    failures: none for the first `free`, then doubling from `base_ms`, at most `max_ms`. Every
    attempt waits the same, right password or not: the right one is slowed, never refused."""
    over = failures - free
    if over < 0:
        return 0.0
    return min(max_ms, base_ms * (2 ** min(over, 20))) / 1000.0


def new_totp_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, email: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=issuer)


def totp_step(secret: str, code: str, now: datetime, last_step: int | None = None) -> int | None:
    """The time step a code belongs to, when it is the current step's or the previous one's (a
    phone a little late) and later than `last_step`, the last step this account used; else None."""
    code = "".join(ch for ch in (code or "") if ch.isdigit())
    if len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in (current, current - 1):
        if last_step is not None and step <= last_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def verify_totp(secret: str, code: str, now: datetime, last_step: int | None = None) -> bool:
    return totp_step(secret, code, now, last_step) is not None


def accept_totp(session: Session, user: StaffUser, secret: str, code: str, now: datetime) -> bool:
    """Check a code and spend it: the account's last step moves forward in one conditional UPDATE,
    so two requests racing with the same code cannot both succeed."""
    step = totp_step(secret, code, now, user.totp_last_step)
    if step is None:
        return False
    done = session.execute(
        update(StaffUser).where(StaffUser.id == user.id,
                                or_(StaffUser.totp_last_step.is_(None), StaffUser.totp_last_step < step))
        .values(totp_last_step=step).execution_options(synchronize_session=False)).rowcount
    if done != 1:
        return False
    user.totp_last_step = step
    return True


def new_recovery_codes(secret_key: str, user: StaffUser) -> list[str]:
    codes = [secrets.token_hex(5) for _ in range(RECOVERY_CODES)]
    user.recovery_codes = ",".join(_recovery_hash(secret_key, c) for c in codes)
    return [f"{c[:5]}-{c[5:]}" for c in codes]


def _recovery_hash(secret_key: str, code: str) -> str:
    return hmac.new(secret_key.encode(), b"recovery:" + code.encode(), hashlib.sha256).hexdigest()


def use_recovery_code(secret_key: str, user: StaffUser, code: str, legacy_secret: str | None = None) -> bool:
    """Single use: a matching code is removed. Codes made before the back office had its own
    secret were keyed with the public site's: `legacy_secret` still recognises them."""
    norm = "".join(ch for ch in (code or "").lower() if ch in "0123456789abcdef")
    if len(norm) != 10:
        return False
    stored = [c for c in (user.recovery_codes or "").split(",") if c]
    for key in (secret_key, legacy_secret):
        if not key:
            continue
        h = _recovery_hash(key, norm)
        if h in stored:
            stored.remove(h)
            user.recovery_codes = ",".join(stored)
            return True
    return False


def change_password(user: StaffUser, *, old_password: str, new_password: str, crip_key: bytes | None) -> None:
    try:
        _ph.verify(user.password_hash, old_password or "")
    except (VerificationError, InvalidHashError):
        raise StaffError("the current password is wrong") from None
    check_password_strength(new_password)
    user.password_hash = hash_password(new_password)
    if user.wrapped_key is not None:
        if crip_key is None:
            crip_key = sealing.unwrap_key(old_password, user.key_salt, user.wrapped_key)
        wrap_for(user, new_password, crip_key)
    user.session_epoch += 1
    _end_sessions(user)


def deactivate(user: StaffUser) -> None:
    user.active = False
    user.wrapped_key = None
    user.key_salt = None
    user.session_epoch += 1
    _end_sessions(user)


def _end_sessions(user: StaffUser) -> None:
    """Delete the account's server-side sessions (their cookies open nothing afterwards)."""
    from sqlalchemy.orm import object_session
    from . import staff_sessions
    session = object_session(user)
    if session is not None and user.id is not None:
        staff_sessions.end_all(session, user.id)
