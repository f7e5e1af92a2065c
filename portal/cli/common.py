"""What every command shares: one-line errors with exit status 2, the database guards."""
from __future__ import annotations

import sys
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import NoReturn

import click
from flask import current_app
from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError

from ..extensions import db


def fail(message: str) -> NoReturn:
    """One line on stderr, exit status 2."""
    click.echo(f"Error: {message}", err=True)
    sys.exit(2)


def migrate() -> None:
    """Bring the schema to the latest version, or stop with one line when the database is unreachable."""
    from ..migrate import upgrade
    try:
        upgrade(db.engine)
    except (OperationalError, DBAPIError) as exc:
        orig = getattr(exc, "orig", None)
        fail(f"cannot reach the database at DATABASE_URL ({type(orig or exc).__name__}); "
             "check that it is running and that the URL is right")


@contextmanager
def database():
    """Turn an unreachable database or a missing schema into one line and exit status 2."""
    try:
        yield db.session
    except (OperationalError, ProgrammingError, DBAPIError) as exc:
        db.session.rollback()
        orig = getattr(exc, "orig", None)
        fail(f"cannot use the database at DATABASE_URL ({type(orig or exc).__name__}); check that it "
             "is running and that its schema is up to date (flask --app portal init-db)")


def now() -> datetime:
    return datetime.now(timezone.utc)


def audit_key() -> str:
    """AUDIT_KEY, which keys every audit line, or a one-line error before anything is done: the
    commands that write to the audit log run with the back office's settings (PORTAL_SERVES with
    crip, CRIP_SECRET_KEY or AUDIT_KEY), never with the public site's alone."""
    key = current_app.config.get("AUDIT_KEY")
    if not key:
        fail("this command writes to the audit log, whose lines are keyed with AUDIT_KEY: run it with "
             "the back office's settings (PORTAL_SERVES including crip, and CRIP_SECRET_KEY or AUDIT_KEY)")
    return key


def served_departement(code: str) -> str:
    """The normalised code of a département this instance serves, or a one-line error."""
    served = current_app.config["PROFILES"]
    norm = (code or "").strip().upper()
    if norm not in served:
        fail(f"département {code!r} is not served by this instance (served: {', '.join(served)})")
    return norm
