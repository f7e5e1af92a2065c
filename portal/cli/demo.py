"""flask --app portal seed-demo"""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from .. import demo
from ..domain import keys
from ..extensions import db
from .common import fail, migrate


def _write_private_key(instance: Path, code: str, private: bytes) -> None:
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / f"crip-{code}.key"
    path.write_text(private.hex())
    path.chmod(0o600)


@click.command("seed-demo")
@with_appcontext
def seed_demo():
    """Create the demo data (idempotent): a CRIP key pair per served département."""
    if current_app.config["ENV_NAME"] == "production":
        fail("seed-demo refuses to run with PORTAL_ENV=production: it writes CRIP private keys in clear "
             "and creates accounts with known passwords")
    migrate()
    created = []
    instance = Path(current_app.config["INSTANCE_PATH"])
    for code in current_app.config["PROFILES"]:
        if keys.active_key(db.session, code) is None:
            _write_private_key(instance, code, keys.create_crip_key(db.session, code))
            created.append(code)
    db.session.commit()
    demo.seed(db.session, current_app)
    click.echo(f"Demo data ready. New CRIP keys: {', '.join(created) or 'none'}.")


def register(app) -> None:
    app.cli.add_command(seed_demo)
