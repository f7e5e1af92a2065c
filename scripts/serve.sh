#!/usr/bin/env bash
# Install and serve the portal on the embedded default: SQLite under instance/, in-memory rate
# limits, demo data. No service needed. Open http://127.0.0.1:5000
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d .venv ] || python3 -m venv .venv
. .venv/bin/activate
pip install -q --disable-pip-version-check -e .
pybabel compile -d portal/translations >/dev/null
flask --app portal seed-demo
exec flask --app portal run --host 127.0.0.1 --port "${PORT:-5000}"
