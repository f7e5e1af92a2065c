"""Command line (`flask --app portal …`), one module per command group:

  schema.py     init-db                          create or migrate the database schema
  demo.py       seed-demo                        demo data and a CRIP key pair per served département
  drafts.py     purge-drafts                     delete idle drafts and kept confirmations
  retention.py  purge [--dry-run] [--yes]        delete the IPs past their retention
  staff.py      crip create-user | deactivate-user
  keys.py       crip-keys init DEP               a CRIP key pair
  audit.py      audit verify                     check the hash chain of the audit log
  outbox.py     outbox send | remind             notification mails to the CRIP staff
  stats.py      stats export DEP --out F.csv     anonymised export, one row per IP

Shared helpers (one-line errors with exit status 2, the database guard) are in common.py.
Each module exposes `register(app)`, which adds its command or group with `app.cli.add_command`.
"""
from __future__ import annotations

from . import audit, demo, drafts, keys, outbox, retention, schema, staff, stats

_MODULES = (schema, demo, drafts, retention, staff, keys, audit, outbox, stats)


def register(app) -> None:
    """Add every command group to the application's command line."""
    for module in _MODULES:
        module.register(app)
