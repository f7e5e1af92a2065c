"""Command line: flask --app portal init-db | seed-demo | crip-keys init."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select
from sqlalchemy.exc import OperationalError, DBAPIError

from .extensions import db


def _fail(message: str):
    click.echo(f"Error: {message}", err=True)
    sys.exit(2)


def _migrate():
    from .migrate import upgrade
    try:
        upgrade(db.engine)
    except (OperationalError, DBAPIError) as exc:
        _fail(f"cannot reach the database at DATABASE_URL ({type(exc.orig).__name__ if getattr(exc, 'orig', None) else type(exc).__name__}); "
              "check that it is running and that the URL is right")


def register(app):
    @app.cli.command("init-db")
    def init_db():
        """Create or migrate the database schema to the latest version."""
        _migrate()
        click.echo("Database is at the latest schema version.")

    @app.cli.command("seed-demo")
    def seed_demo():
        """Create the demo data (idempotent): a CRIP key pair per served département."""
        if current_app.config["ENV_NAME"] == "production":
            _fail("seed-demo refuses to run with PORTAL_ENV=production: it writes CRIP private keys in clear "
                  "and creates accounts with known passwords")
        _migrate()
        from .domain import keys
        created = []
        instance = Path(current_app.config["INSTANCE_PATH"])
        for code in current_app.config["PROFILES"]:
            if keys.active_key(db.session, code) is None:
                private = keys.create_crip_key(db.session, code)
                instance.mkdir(parents=True, exist_ok=True)
                path = instance / f"crip-{code}.key"
                path.write_text(private.hex())
                path.chmod(0o600)
                created.append(code)
        db.session.commit()
        from . import demo
        demo.seed(db.session, current_app)
        click.echo(f"Demo data ready. New CRIP keys: {', '.join(created) or 'none'}.")

    @app.cli.command("purge-drafts")
    def purge_drafts():
        """Delete drafts idle past DRAFT_TTL_SECONDS and kept confirmations past CONFIRMATION_TTL_SECONDS."""
        from .report.drafts import purge_expired
        from datetime import datetime, timezone
        _migrate()
        n = purge_expired(db.session, datetime.now(timezone.utc), current_app.config["DRAFT_TTL_SECONDS"],
                          current_app.config["CONFIRMATION_TTL_SECONDS"])
        click.echo(f"{n} expired draft(s) deleted.")

    crip_group = AppGroup("crip", help="CRIP staff accounts.")
    app.cli.add_command(crip_group)

    @crip_group.command("create-user")
    @click.option("--email", required=True)
    @click.option("--name", required=True)
    @click.option("--role", required=True, type=click.Choice(["agent", "supervisor", "evaluator", "admin"]))
    @click.option("--departement", required=True)
    @click.option("--territory", default=None, help="The evaluator's territory or team code.")
    @click.option("--key-file", type=click.Path(dir_okay=False), default=None,
                  help="File holding the CRIP private key (or recovery key), to wrap for this account.")
    @click.option("--password", default=None, help="Prompted for when omitted (recommended).")
    def create_user(email, name, role, departement, territory, key_file, password):
        """Create a staff account; the CRIP key is wrapped with the person's password."""
        from .domain import staff
        code = departement.upper()
        if code not in current_app.config["PROFILES"]:
            _fail(f"département {departement!r} is not served by this instance")
        if territory and territory not in {t.code for t in current_app.config["PROFILES"][code].territories}:
            _fail(f"territory {territory!r} is not in the profile of département {code}")
        private = None
        if key_file:
            try:
                private = bytes.fromhex(Path(key_file).read_text().strip())
            except (OSError, ValueError):
                _fail(f"cannot read a hex private key from {key_file}")
            from .domain import keys, sealing
            active = keys.active_key(db.session, code)
            if active is None or bytes(sealing.PrivateKey(private).public_key) != active.public_key:
                _fail("this private key does not match the département's active CRIP key")
        if password is None:
            password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        _migrate()
        try:
            user = staff.create_user(db.session, email=email, name=name, role=role, departement=code,
                                     password=password, crip_private_key=private, territory=territory)
        except staff.StaffError as exc:
            _fail(str(exc))
        from .domain import audit
        audit.record(db.session, actor_id=None, action="account_created", target=str(user.id), detail=role)
        db.session.commit()
        click.echo(f"Account created for {user.email} ({role}). The second factor is set up at first sign-in.")

    @crip_group.command("deactivate-user")
    @click.argument("email")
    def deactivate_user(email):
        """Deactivate an account (never deleted: the audit log stays whole)."""
        from .domain import audit, staff
        from .models import StaffUser
        user = db.session.scalar(select(StaffUser).where(StaffUser.email == email.strip().lower()))
        if user is None:
            _fail(f"no account for {email}")
        staff.deactivate(user)
        audit.record(db.session, actor_id=None, action="account_deactivated", target=str(user.id))
        db.session.commit()
        click.echo(f"Account {user.email} deactivated.")

    crip_keys = AppGroup("crip-keys", help="CRIP key pairs (the private key never enters the database in clear).")
    app.cli.add_command(crip_keys)

    @crip_keys.command("init")
    @click.argument("departement")
    @click.option("--out", type=click.Path(dir_okay=False, writable=True), help="Write the private key to this file (mode 600) instead of printing it.")
    @click.option("--force", is_flag=True, help="Replace an existing active key (IPs already sealed stay readable with the old key).")
    def crip_keys_init(departement, out, force):
        """Make a key pair for DEPARTEMENT's CRIP; the private key is shown or written once."""
        from .domain import keys
        code = departement.upper()
        if code not in current_app.config["PROFILES"]:
            _fail(f"département {departement!r} is not served by this instance "
                  f"(served: {', '.join(current_app.config['PROFILES'])})")
        _migrate()
        if keys.active_key(db.session, code) is not None and not force:
            _fail(f"département {code} already has an active key; use --force to rotate it")
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

    from .cli_ops import register as register_ops
    register_ops(app)
