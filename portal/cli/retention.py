"""flask --app portal purge [--dry-run] [--yes]: delete the IPs past their retention."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from ..domain import audit, retention
from .common import audit_key, database, now


def _purge_with_progress(session, ids) -> int:
    with click.progressbar(length=len(ids), label="Deleting") as bar:
        done = [0]

        def progress(n_done):
            bar.update(n_done - done[0])
            done[0] = n_done

        return retention.purge(session, ids, progress)


RULE_WORDS = {
    "no_followup": "closed without further action",
    "help": "administrative help",
    "judicial": "referred to the judicial authority",
    "passed_on": "transferred to another CRIP or linked to another IP",
    "undecided": "never decided",
}
SETTING = {"no_followup": "RETENTION_CLOSED_DAYS", "help": "RETENTION_HELP_DAYS",
           "judicial": "RETENTION_JUDICIAL_DAYS", "passed_on": "RETENTION_PASSED_ON_DAYS",
           "undecided": "RETENTION_UNDECIDED_DAYS"}


@click.command("purge")
@click.option("--dry-run", is_flag=True, help="Only show each rule and count the IPs it makes due.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def purge(dry_run, yes):
    """Delete the IPs past the retention of their outcome (RETENTION_*_DAYS), with all their data."""
    policy = retention.Policy.from_config(current_app.config)
    key = None if dry_run else audit_key()
    with database() as session:
        by_rule = retention.due_by_rule(session, now(), policy)
    for rule, ids in by_rule:
        since = "the decision" if rule.since == "decision" else "receipt"
        click.echo(f"{RULE_WORDS[rule.name]}: kept {rule.days} days after {since} ({SETTING[rule.name]}): "
                   f"{len(ids)} IP(s) due.")
    ids = sorted({i for _rule, rule_ids in by_rule for i in rule_ids})
    click.echo(f"{len(ids)} IP(s) in all are due for deletion.")
    if dry_run:
        click.echo("Dry run: nothing deleted.")
        return
    if not ids:
        return
    if not yes:
        click.confirm(f"Delete these {len(ids)} IP(s) and everything attached to them, for good?", abort=True)
    with database() as session:
        count = _purge_with_progress(session, ids)
        detail = "; ".join(f"{rule.name} {rule.days}d: {len(rule_ids)}" for rule, rule_ids in by_rule)
        audit.record(session, key=key, actor_id=None, action="purge", target="ips",
                     detail=f"{count} IP(s) deleted; {detail}")
        session.commit()
    click.echo(f"Deleted {count} IP(s).")


def register(app) -> None:
    app.cli.add_command(purge)
