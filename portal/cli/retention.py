"""flask --app portal purge [--dry-run] [--yes]: delete the IPs past their retention."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from ..domain import audit, retention
from .common import database, now


def _purge_with_progress(session, ids) -> int:
    with click.progressbar(length=len(ids), label="Deleting") as bar:
        done = [0]

        def progress(n_done):
            bar.update(n_done - done[0])
            done[0] = n_done

        return retention.purge(session, ids, progress)


@click.command("purge")
@click.option("--dry-run", is_flag=True, help="Only count the IPs due for deletion.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def purge(dry_run, yes):
    """Delete the IPs decided longer ago than RETENTION_CLOSED_DAYS, with all their data."""
    days = int(current_app.config["RETENTION_CLOSED_DAYS"])
    with database() as session:
        ids = retention.due_for_purge(session, now(), days)
    click.echo(f"{len(ids)} IP(s) decided more than {days} days ago are due for deletion.")
    if dry_run:
        click.echo("Dry run: nothing deleted.")
        return
    if not ids:
        return
    if not yes:
        click.confirm(f"Delete these {len(ids)} IP(s) and everything attached to them, for good?", abort=True)
    with database() as session:
        count = _purge_with_progress(session, ids)
        audit.record(session, actor_id=None, action="purge", target="ips",
                     detail=f"{count} IP(s) deleted; retention {days} days")
        session.commit()
    click.echo(f"Deleted {count} IP(s).")


def register(app) -> None:
    app.cli.add_command(purge)
