#!/usr/bin/env bash
# Install everything the tests need and run the whole suite.
# PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379) are used when reachable; with CI=true
# they are required, and so is Debian's Chromium for the browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d .venv ] || python3 -m venv .venv
. .venv/bin/activate
pip install -q --disable-pip-version-check -e '.[test]'
if command -v npm >/dev/null 2>&1; then
  npm ci --no-audit --no-fund --silent
fi
[ -z "$(ls portal/translations 2>/dev/null)" ] || python scripts/i18n.py check
[ -z "$(ls portal/translations 2>/dev/null)" ] || pybabel compile -d portal/translations >/dev/null
ruff check .
start=$(date +%s)
status=0
python -m pytest -n "${PYTEST_WORKERS:-2}" "$@" || status=$?
echo "test suite wall time: $(( $(date +%s) - start )) s"
exit $status
