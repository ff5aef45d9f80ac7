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
# The browser tests (tests/browser) drive Debian's Chromium through Playwright; install it when we can (root and
# apt-get), otherwise they skip and say so.
if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1 && [ -z "${CHROMIUM_PATH:-}" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "make test: installing Debian's chromium for the browser tests (apt-get install chromium)"
    apt-get install -y -q chromium >/dev/null 2>&1 \
      || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null 2>&1; } \
      || echo "make test: chromium could not be installed; browser tests will skip"
  else
    echo "make test: no chromium (apt-get install chromium, or set CHROMIUM_PATH); browser tests will skip"
  fi
fi
$BIN/ruff check .
# The 20 slowest tests close the report. No test asserts wall-clock time (a shared machine makes such bounds flaky):
# the timed figures are benchmarks (benchmarks/README.md).
$BIN/pytest --durations=20 "$@"
