"""flask --app portal audit verify | anchor: check the hash chain of the audit log against itself and
against the anchors noted outside the database (AUDIT_ANCHOR_PATH)."""
from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup

from ..domain import audit
from .common import database, now

group = AppGroup("audit", help="The hash-chained audit log.")


@group.command("verify")
def verify():
    """Check every line of the audit log against its hash and the line before it, and the log
    against every anchor in AUDIT_ANCHOR_PATH (deleted newest lines, a rewritten chain)."""
    anchors, problems = audit.read_anchors(current_app.config["AUDIT_ANCHOR_PATH"])
    with database() as session:
        problems = audit.verify(session, key=current_app.config.get("AUDIT_KEY")) + problems + audit.verify_anchors(session, anchors)
        n = audit.count(session)
    if problems:
        for p in problems:
            click.echo(p)
        click.echo(f"audit log damaged: {len(problems)} problem(s) in {n} entries", err=True)
        sys.exit(1)
    click.echo(f"audit log intact: {n} entries, {len(anchors)} anchor(s) checked")


@group.command("anchor")
def anchor_cmd():
    """Note the head of the chain in AUDIT_ANCHOR_PATH (append-only; run it at least daily, e.g.
    from cron, and keep the file off the database host)."""
    path = current_app.config["AUDIT_ANCHOR_PATH"]
    with database() as session:
        record = audit.anchor(session, now())
    audit.append_anchor(path, record)
    click.echo(f"Anchored entry {record['id']} ({record['count']} entries) in {path}.")


def register(app) -> None:
    app.cli.add_command(group)
