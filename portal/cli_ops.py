"""Operations commands of the CRIP back office:

  flask --app portal audit verify                     check the hash chain of the audit log
  flask --app portal purge [--dry-run] [--yes]        delete the IPs past their retention
  flask --app portal outbox send                      send the queued notifications
  flask --app portal outbox remind                    queue the evaluation deadline reminders
  flask --app portal stats export DEP --out F.csv     anonymised export, one row per IP

Registered by portal.cli (`register(app)`). Errors are one line on stderr with exit status 2.
"""
from __future__ import annotations

import sys
from contextlib import contextmanager
from datetime import datetime, timezone

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError

from .extensions import db


def _fail(message: str):
    from .cli import _fail as fail
    fail(message)


@contextmanager
def _database():
    """Turn an unreachable database or a missing schema into one line and exit status 2."""
    try:
        yield db.session
    except (OperationalError, ProgrammingError, DBAPIError) as exc:
        db.session.rollback()
        orig = getattr(exc, "orig", None)
        _fail(f"cannot use the database at DATABASE_URL ({type(orig or exc).__name__}); check that it "
              "is running and that its schema is up to date (flask --app portal init-db)")


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _departement(code: str) -> str:
    served = current_app.config["PROFILES"]
    norm = (code or "").strip().upper()
    if norm not in served:
        _fail(f"département {code!r} is not served by this instance (served: {', '.join(served)})")
    return norm


def _sender():
    from .domain import outbox
    cfg = current_app.config
    if not cfg.get("MAIL_SERVER"):
        return outbox.console_sender(click.echo), "console"
    return outbox.smtp_sender(cfg["MAIL_SERVER"], cfg.get("MAIL_PORT", 25), cfg.get("MAIL_FROM", "no-reply@localhost"),
                              starttls=bool(cfg.get("MAIL_USE_TLS", False)),
                              username=cfg.get("MAIL_USERNAME") or None,
                              password=cfg.get("MAIL_PASSWORD") or None), f"SMTP {cfg['MAIL_SERVER']}"


def register(app):
    # audit ---------------------------------------------------------------------------------
    audit_group = AppGroup("audit", help="The hash-chained audit log.")
    app.cli.add_command(audit_group)

    @audit_group.command("verify")
    def audit_verify():
        """Check every line of the audit log against its hash and the line before it."""
        from .domain import audit
        with _database() as session:
            problems = audit.verify(session)
            n = audit.count(session)
        if problems:
            for p in problems:
                click.echo(p)
            click.echo(f"audit log damaged: {len(problems)} problem(s) in {n} entries", err=True)
            sys.exit(1)
        click.echo(f"audit log intact: {n} entries")

    # purge ---------------------------------------------------------------------------------
    @app.cli.command("purge")
    @click.option("--dry-run", is_flag=True, help="Only count the IPs due for deletion.")
    @click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
    def purge_cmd(dry_run, yes):
        """Delete the IPs decided longer ago than RETENTION_CLOSED_DAYS, with all their data."""
        from .domain import audit, retention
        days = int(current_app.config["RETENTION_CLOSED_DAYS"])
        with _database() as session:
            ids = retention.due_for_purge(session, _now(), days)
        click.echo(f"{len(ids)} IP(s) decided more than {days} days ago are due for deletion.")
        if dry_run:
            click.echo("Dry run: nothing deleted.")
            return
        if not ids:
            return
        if not yes:
            click.confirm(f"Delete these {len(ids)} IP(s) and everything attached to them, for good?",
                          abort=True)
        with _database() as session:
            with click.progressbar(length=len(ids), label="Deleting") as bar:
                done = [0]

                def progress(n_done):
                    bar.update(n_done - done[0])
                    done[0] = n_done

                count = retention.purge(session, ids, progress)
            audit.record(session, actor_id=None, action="purge", target="ips",
                         detail=f"{count} IP(s) deleted; retention {days} days")
            session.commit()
        click.echo(f"Deleted {count} IP(s).")

    # outbox --------------------------------------------------------------------------------
    outbox_group = AppGroup("outbox", help="Notification mails to the CRIP staff.")
    app.cli.add_command(outbox_group)

    @outbox_group.command("send")
    @click.option("--max-attempts", default=5, show_default=True, type=click.IntRange(1),
                  help="Give up on a mail after this many failed tries.")
    def outbox_send(max_attempts):
        """Send the queued mails (printed on the console when MAIL_SERVER is not set)."""
        from .domain import outbox
        sender, via = _sender()
        with _database() as session:
            sent, failed = outbox.send_pending(session, sender=sender, now=_now(), max_attempts=max_attempts)
        click.echo(f"Outbox via {via}: {sent} sent, {failed} failed.")

    @outbox_group.command("remind")
    @click.option("--days", "days", multiple=True, type=click.IntRange(0), default=(7, 1), show_default=True,
                  help="Remind this many days before the evaluation is due (repeatable).")
    def outbox_remind(days):
        """Queue reminders of the evaluation deadlines for each CRIP's agents and supervisors."""
        from .domain import outbox
        now = _now()
        queued = ips = 0
        with _database() as session:
            for code in current_app.config["PROFILES"]:
                due = outbox.deadline_reminders(session, now, tuple(days), departement=code)
                if not due:
                    continue
                recipients = outbox.staff_recipients(session, code)
                if not recipients:
                    click.echo(f"Warning: {len(due)} IP(s) of {code} near their deadline but no active "
                               "agent or supervisor to remind.", err=True)
                    continue
                for ip, days_left in due:
                    ips += 1
                    queued += len(outbox.notify_deadline(session, ip, recipients, days_left))
            session.commit()
        click.echo(f"Queued {queued} reminder(s) for {ips} IP(s).")

    # stats ---------------------------------------------------------------------------------
    stats_group = AppGroup("stats", help="Activity statistics (coded fields only).")
    app.cli.add_command(stats_group)

    @stats_group.command("export")
    @click.argument("departement")
    @click.option("--out", "out", required=True, type=click.Path(dir_okay=False),
                  help="CSV file to write.")
    @click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), help="First day (YYYY-MM-DD).")
    @click.option("--until", type=click.DateTime(formats=["%Y-%m-%d"]), help="Day after the last (YYYY-MM-DD).")
    def stats_export(departement, out, since, until):
        """Anonymised CSV of DEPARTEMENT's IPs: months only, no reference, no free text."""
        from .domain import audit, statistics
        code = _departement(departement)
        since_d = since.date() if since else None
        until_d = until.date() if until else None
        with _database() as session:
            try:
                with open(out, "w", newline="", encoding="utf-8") as f:
                    n = statistics.write_csv(session, code, f, since=since_d, until=until_d)
            except OSError as exc:
                _fail(f"cannot write {out}: {exc.strerror or exc}")
            audit.record(session, actor_id=None, action="stats_export", target=code,
                         detail=f"{n} row(s)")
            session.commit()
        click.echo(f"Wrote {n} row(s) to {out}.")
