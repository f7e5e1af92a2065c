"""flask --app portal crip create-user | deactivate-user: CRIP staff accounts."""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from ..domain import audit, keys, sealing, staff
from ..extensions import db
from ..models import StaffUser
from .common import audit_key, fail, migrate, served_departement

group = AppGroup("crip", help="CRIP staff accounts.")


def _private_key_from(key_file: str, code: str) -> bytes:
    """The CRIP private key read from KEY_FILE, checked against the département's active key."""
    try:
        private = bytes.fromhex(Path(key_file).read_text().strip())
    except (OSError, ValueError):
        fail(f"cannot read a hex private key from {key_file}")
    active = keys.active_key(db.session, code)
    if active is None or bytes(sealing.PrivateKey(private).public_key) != active.public_key:
        fail("this private key does not match the département's active CRIP key")
    return private


@group.command("create-user")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", required=True, type=click.Choice(["agent", "supervisor", "evaluator", "admin"]))
@click.option("--departement", required=True)
@click.option("--territory", default=None, help="The evaluator's territory or team code.")
@click.option("--key-file", type=click.Path(dir_okay=False), default=None,
              help="File holding the CRIP private key (or recovery key), to wrap for this account.")
@click.option("--password", default=None, help="Prompted for when omitted (recommended).")
def create_user(email, name, role, departement, territory, key_file, password):
    """Create a staff account; the CRIP key is wrapped with the person's password."""
    code = served_departement(departement)
    key = audit_key()
    if territory and territory not in {t.code for t in current_app.config["PROFILES"][code].territories}:
        fail(f"territory {territory!r} is not in the profile of département {code}")
    private = _private_key_from(key_file, code) if key_file else None
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    migrate()
    try:
        user = staff.create_user(db.session, email=email, name=name, role=role, departement=code,
                                 password=password, crip_private_key=private, territory=territory)
    except staff.StaffError as exc:
        fail(str(exc))
    audit.record(db.session, key=key, actor_id=None, action="account_created", target=str(user.id), detail=role)
    db.session.commit()
    click.echo(f"Account created for {user.email} ({role}). The second factor is set up at first sign-in.")


@group.command("deactivate-user")
@click.argument("email")
def deactivate_user(email):
    """Deactivate an account (never deleted: the audit log stays whole)."""
    key = audit_key()
    user = db.session.scalar(select(StaffUser).where(StaffUser.email == email.strip().lower()))
    if user is None:
        fail(f"no account for {email}")
    staff.deactivate(user)
    audit.record(db.session, key=key, actor_id=None, action="account_deactivated", target=str(user.id))
    db.session.commit()
    click.echo(f"Account {user.email} deactivated.")


def register(app) -> None:
    app.cli.add_command(group)
