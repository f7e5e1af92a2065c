"""flask --app portal audit verify: check the hash chain of the audit log."""
from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from ..domain import audit
from .common import database

group = AppGroup("audit", help="The hash-chained audit log.")


@group.command("verify")
def verify():
    """Check every line of the audit log against its hash and the line before it."""
    with database() as session:
        problems = audit.verify(session)
        n = audit.count(session)
    if problems:
        for p in problems:
            click.echo(p)
        click.echo(f"audit log damaged: {len(problems)} problem(s) in {n} entries", err=True)
        sys.exit(1)
    click.echo(f"audit log intact: {n} entries")


def register(app) -> None:
    app.cli.add_command(group)
