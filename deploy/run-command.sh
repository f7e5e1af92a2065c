#!/bin/sh
# Run one portal command with the production settings, e.g. `deploy/run-command.sh purge-drafts`
# (used by deploy/cron). Maintenance statements may run longer than a web request's, hence a larger
# DATABASE_STATEMENT_TIMEOUT than the 5 s default.
set -eu
cd "${PORTAL_HOME:-/opt/portal}"
set -a
. "${PORTAL_ENV_FILE:-/etc/portal/env}"
set +a
export PORTAL_ENV=production
export DATABASE_STATEMENT_TIMEOUT="${MAINTENANCE_STATEMENT_TIMEOUT:-300}"
exec .venv/bin/flask --app portal "$@"
