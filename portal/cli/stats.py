"""flask --app portal stats export DEP --out F.csv: anonymised export, one row per IP."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from ..domain import audit, statistics
from .common import audit_key, database, fail, served_departement

group = AppGroup("stats", help="Activity statistics (coded fields only).")


@group.command("export")
@click.argument("departement")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="CSV file to write.")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), help="First day (YYYY-MM-DD).")
@click.option("--until", type=click.DateTime(formats=["%Y-%m-%d"]), help="Day after the last (YYYY-MM-DD).")
def export(departement, out, since, until):
    """Anonymised CSV of DEPARTEMENT's IPs: months only, no reference, no free text."""
    code = served_departement(departement)
    key = audit_key()
    since_d = since.date() if since else None
    until_d = until.date() if until else None
    with database() as session:
        try:
            with open(out, "w", newline="", encoding="utf-8") as f:
                n = statistics.write_csv(session, code, f, since=since_d, until=until_d)
        except OSError as exc:
            fail(f"cannot write {out}: {exc.strerror or exc}")
        audit.record(session, key=key, actor_id=None, action="stats_export", target=code, detail=f"{n} row(s)")
        session.commit()
    click.echo(f"Wrote {n} row(s) to {out}.")


def register(app) -> None:
    app.cli.add_command(group)
