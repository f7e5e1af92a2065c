"""flask --app portal init-db"""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from .common import migrate


@click.command("init-db")
@with_appcontext
def init_db():
    """Create or migrate the database schema to the latest version."""
    migrate()
    click.echo("Database is at the latest schema version.")


def register(app) -> None:
    app.cli.add_command(init_db)
