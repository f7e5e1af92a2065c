"""flask --app portal crip-keys init DEP: a CRIP key pair."""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from ..domain import keys
from ..extensions import db
from .common import fail, migrate, served_departement

group = AppGroup("crip-keys", help="CRIP key pairs (the private key never enters the database in clear).")


@group.command("init")
@click.argument("departement")
@click.option("--out", type=click.Path(dir_okay=False, writable=True),
              help="Write the private key to this file (mode 600) instead of printing it.")
@click.option("--force", is_flag=True,
              help="Replace an existing active key (IPs already sealed stay readable with the old key).")
def init(departement, out, force):
    """Make a key pair for DEPARTEMENT's CRIP; the private key is shown or written once."""
    code = served_departement(departement)
    migrate()
    if keys.active_key(db.session, code) is not None and not force:
        fail(f"département {code} already has an active key; use --force to rotate it")
    private = keys.create_crip_key(db.session, code)
    db.session.commit()
    if out:
        p = Path(out)
        p.write_text(private.hex())
        p.chmod(0o600)
        click.echo(f"Private key written to {p}. Keep it offline; it is not stored anywhere else.")
    else:
        click.echo("Private key (shown once, keep it offline):")
        click.echo(private.hex())


def register(app) -> None:
    app.cli.add_command(group)
