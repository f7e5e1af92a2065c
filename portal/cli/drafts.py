"""flask --app portal purge-drafts"""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from ..extensions import db
from ..report.drafts import purge_expired
from .common import migrate, now


@click.command("purge-drafts")
@with_appcontext
def purge_drafts():
    """Delete drafts idle past DRAFT_TTL_SECONDS and kept confirmations past CONFIRMATION_TTL_SECONDS."""
    migrate()
    n = purge_expired(db.session, now(), current_app.config["DRAFT_TTL_SECONDS"],
                      current_app.config["CONFIRMATION_TTL_SECONDS"])
    click.echo(f"{n} expired draft(s) deleted.")


def register(app) -> None:
    app.cli.add_command(purge_drafts)
