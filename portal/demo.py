"""Demo data for the embedded default (idempotent): staff accounts and a few sample IPs.

Demo accounts (per served département NN): agent.NN@demo.invalid, superviseur.NN@demo.invalid,
evaluateur.NN@demo.invalid, admin.NN@demo.invalid, password "demo-password-NN". Their TOTP secret is
printed by seed-demo. Never run this against a production database.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import click
from sqlalchemy import func, select

from .domain import intake, keys, staff
from .models import InformationPreoccupante, StaffUser

DEMO_TOTP = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def _private_key(instance: Path, code: str) -> bytes | None:
    path = instance / f"crip-{code}.key"
    return bytes.fromhex(path.read_text().strip()) if path.exists() else None


SAMPLES = [
    {"source_type": "public", "children": [{"first_name": "Lina", "age": 1, "sex": "f", "postcode": "31000", "commune": "31555", "commune_name": "Toulouse"}],
     "concern": {"categories": ["neglect"], "account": "Demo: a baby often left alone in the evening.", "danger_now": "no"},
     "sender": {"anonymous": "yes", "contact_language": "fr"}},
    {"source_type": "professional", "sector": "school",
     "children": [{"first_name": "Tom", "age": 9, "sex": "m", "postcode": "31800", "school": "Demo school, CM1"}],
     "concern": {"categories": ["physical"], "account": "Demo: repeated bruises noticed at school.", "danger_now": "no"},
     "pro": {"establishment": "Demo school", "author_name": "Demo teacher", "author_role": "Teacher",
             "author_email": "teacher@demo.invalid", "facts": [{"when": "2026-11-20", "what": "Demo fact"}],
             "parents_told": "yes", "hierarchy_copy": "yes", "signalement": "no"},
     "sender": {"contact_language": "fr"}},
    {"source_type": "young", "children": [{"first_name": "", "age": 15, "sex": "x", "postcode_unknown": True}],
     "concern": {"categories": ["psychological"], "account": "Demo: a young person writes about a friend.", "danger_now": "unknown"},
     "sender": {"anonymous": "yes", "contact_language": "ar"}},
]


def seed(session, app):
    instance = Path(app.config["INSTANCE_PATH"])
    for code, profile in app.config["PROFILES"].items():
        private = _private_key(instance, code)
        if private is None or not app.config.get("CRIP_SECRET_KEY"):   # no back office served here
            continue
        for role, local in (("agent", "agent"), ("supervisor", "superviseur"), ("evaluator", "evaluateur"), ("admin", "admin")):
            email = f"{local}.{code.lower()}@demo.invalid"
            if session.scalar(select(StaffUser.id).where(StaffUser.email == email)) is not None:
                continue
            user = staff.create_user(session, email=email, name=f"Demo {role} {code}", role=role, departement=code,
                                     password=f"demo-password-{code.lower()}", crip_private_key=private,
                                     territory=profile.default_territory().code if role == "evaluator" else None)
            user.totp_secret = staff.encrypt_totp_secret(app.config["CRIP_SECRET_KEY"], DEMO_TOTP)
            user.totp_enrolled = True
        has_ips = session.scalar(select(func.count()).select_from(InformationPreoccupante)
                                 .where(InformationPreoccupante.received_by == code))
        if not has_ips:
            crip_key = keys.active_key(session, code)
            now = datetime.now(timezone.utc)
            for i, answers in enumerate(SAMPLES):
                intake.submit(session, answers=answers, files=[], received_by=code,
                              served=app.config["PROFILES"], crip_key=crip_key,
                              secret_key=app.config["SECRET_KEY"], submission_token=None, language="fr",
                              probably_automated=False, now=now - timedelta(hours=3 * i))
        session.commit()
    click.echo(f"Demo staff: agent.NN / superviseur.NN / evaluateur.NN / admin.NN @demo.invalid, "
               f"password demo-password-NN, TOTP secret {DEMO_TOTP} (any authenticator app).")
