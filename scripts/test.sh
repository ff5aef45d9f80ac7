#!/usr/bin/env bash
# Runs ruff and the test suite. With DATABASE_URL / CELERY_BROKER_URL set (CI: PostgreSQL + Redis) the suite
# and its real Celery worker use them; without, it falls back to SQLite and the filesystem broker, and says so
# on its first line. Extra arguments go to pytest (e.g. scripts/test.sh tests/foundation -x).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
if [ -z "${DATABASE_URL:-}" ]; then
  echo "make test: DATABASE_URL not set -> running on SQLite with the embedded filesystem broker (CI uses PostgreSQL + Redis)"
else
  echo "make test: database ${DATABASE_URL%%:*} (${DATABASE_URL##*/}), broker ${CELERY_BROKER_URL:-filesystem://}"
fi
make -s --no-print-directory install
$BIN/ruff check .
$BIN/pytest "$@"
