#!/usr/bin/env bash
# Install and serve the portal on the embedded default: SQLite under instance/, in-memory rate
# limits, demo data. No service needed. Open http://127.0.0.1:5000
#   bash scripts/serve.sh [--verbose]     --verbose (or LOG_LEVEL=DEBUG) shows the migration lines too
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--verbose" ]; then
  export LOG_LEVEL=DEBUG
  shift
fi
[ -d .venv ] || python3 -m venv .venv
. .venv/bin/activate
pip install -q --disable-pip-version-check -e . 2>&1 | { grep -v "is ignored" || true; }
pybabel compile -d portal/translations >/dev/null 2>&1
flask --app portal seed-demo
port="${PORT:-5000}"
cat <<MSG

  The site:         http://127.0.0.1:${port}/
  The back office:  http://127.0.0.1:${port}/crip/
  Demo accounts (département NN, e.g. 31): agent.NN@demo.invalid, superviseur.NN@demo.invalid,
    evaluateur.NN@demo.invalid, admin.NN@demo.invalid; password demo-password-NN (lower case);
    the second factor uses the TOTP secret printed above.
  Stop with Ctrl-C.

MSG
exec flask --app portal run --host 127.0.0.1 --port "$port"
