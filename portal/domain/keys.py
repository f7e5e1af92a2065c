"""CRIP key pairs: the database keeps the public half only."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import CripKey
from .sealing import generate_keypair


def active_key(session: Session, departement: str) -> CripKey | None:
    return session.scalars(
        select(CripKey).where(CripKey.departement == departement, CripKey.active.is_(True))
        .order_by(CripKey.id.desc()).limit(1)
    ).first()


def create_crip_key(session: Session, departement: str) -> bytes:
    """Create and store a new active key pair for a département; return the private key (once)."""
    for old in session.scalars(select(CripKey).where(CripKey.departement == departement, CripKey.active.is_(True))):
        old.active = False
    private, public = generate_keypair()
    session.add(CripKey(departement=departement, public_key=public, active=True))
    session.flush()
    return private
