"""Accounts from the web, and how a new colleague gets the CRIP key without anyone handling the
recovery key.

1. An administrator creates the account (`create_account`): no password anyone knows, no key.
2. A colleague who holds the key (signed in, so their session holds it) approves the arrival
   (`grant_key`): a one-time enrolment secret is drawn, the CRIP key is wrapped with it exactly as it
   would be with a password, and the secret is shown once to the approver, who hands it over.
   Accounts that read no IP (administrators) get their secret from the administrator who creates or
   re-enables them (`issue_secret`).
3. The newcomer signs in with their e-mail and the secret; while `password_must_change` is set, the
   only thing they can do is choose their password (`set_first_password`), which re-wraps the key with
   it; then they enrol their second factor as any new account does.

Deactivation removes the account's copy of the key (domain.staff.deactivate); re-enabling puts the
account back in the list of arrivals waiting for the key. Resetting the second factor makes the next
sign-in enrol a new one. The web layer audits every step. No Flask here."""
from __future__ import annotations

import secrets

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import StaffUser
from . import staff

_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"     # no 0/O, 1/I/L


class EnrolmentError(ValueError):
    """`code` is a short reason the web layer translates."""

    def __init__(self, code: str):
        self.code = code
        super().__init__(code)


def new_secret() -> str:
    """A one-time enrolment secret: 20 characters (≈ 99 bits), in groups of 5 for reading aloud."""
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(20))
    return "-".join(raw[i:i + 5] for i in range(0, 20, 5))


def create_account(session: Session, *, email: str, name: str, role: str, departement: str,
                   territory: str | None = None) -> StaffUser:
    email = (email or "").strip().lower()
    if role not in staff.ROLES:
        raise EnrolmentError("role")
    if "@" not in email or len(email) > 200:
        raise EnrolmentError("email")
    if not (name or "").strip():
        raise EnrolmentError("name")
    if role == "evaluator" and not territory:
        raise EnrolmentError("territory")
    if session.scalar(select(StaffUser.id).where(func.lower(StaffUser.email) == email)) is not None:
        raise EnrolmentError("exists")
    user = StaffUser(email=email, name=name.strip(), role=role, departement=departement,
                     territory=territory if role == "evaluator" else None,
                     password_hash=staff.hash_password(secrets.token_urlsafe(32)),   # known to no one
                     password_must_change=True, totp_enrolled=False)
    session.add(user)
    session.flush()
    return user


def awaiting_key(session: Session, departement: str) -> list[StaffUser]:
    """Active accounts of this CRIP that read IPs and have no copy of the key yet."""
    return list(session.scalars(select(StaffUser).where(
        StaffUser.departement == departement, StaffUser.active.is_(True), StaffUser.role.in_(staff.READS_IPS),
        StaffUser.wrapped_key.is_(None)).order_by(StaffUser.created_at, StaffUser.id)))


def grant_key(user: StaffUser, crip_private_key: bytes, *, approver: StaffUser) -> str:
    """Wrap the approver's CRIP key for `user` with a fresh one-time secret; return the secret."""
    if approver.id == user.id or approver.departement != user.departement:
        raise EnrolmentError("approver")
    if not user.active or user.role not in staff.READS_IPS or user.wrapped_key is not None:
        raise EnrolmentError("not_waiting")
    if crip_private_key is None:
        raise EnrolmentError("no_key")
    secret = new_secret()
    user.password_hash = staff.hash_password(secret)
    staff.wrap_for(user, secret, crip_private_key)
    user.password_must_change = True
    user.failed_logins = 0
    user.locked_until = None
    user.session_epoch += 1
    return secret


def issue_secret(user: StaffUser) -> str:
    """A one-time secret for an account that reads no IP (an administrator)."""
    if user.role in staff.READS_IPS:
        raise EnrolmentError("needs_key")
    secret = new_secret()
    user.password_hash = staff.hash_password(secret)
    user.password_must_change = True
    user.session_epoch += 1
    return secret


def set_first_password(user: StaffUser, new_password: str, crip_private_key: bytes | None) -> None:
    """Replace the enrolment secret with the person's own password (re-wrapping the key with it)."""
    if not user.password_must_change:
        raise EnrolmentError("not_first")
    try:
        staff.check_password_strength(new_password)
    except staff.StaffError:
        raise EnrolmentError("weak") from None
    if user.role in staff.READS_IPS and crip_private_key is None:
        raise EnrolmentError("no_key")
    user.password_hash = staff.hash_password(new_password)
    if crip_private_key is not None and user.role in staff.READS_IPS:
        staff.wrap_for(user, new_password, crip_private_key)
    user.password_must_change = False


def reenable(user: StaffUser) -> None:
    """Active again; an account that reads IPs waits for a key holder's approval."""
    user.active = True
    user.password_must_change = True
    user.password_hash = staff.hash_password(secrets.token_urlsafe(32))
    user.session_epoch += 1


def reset_second_factor(user: StaffUser) -> None:
    user.totp_secret = None
    user.totp_enrolled = False
    user.recovery_codes = ""
    user.session_epoch += 1
