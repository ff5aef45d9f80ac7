#!/usr/bin/env bash
# The demo on the embedded default (SQLite + filesystem broker, nothing else to install or start): creates
# .venv and installs (first run), migrates, seeds the demo data, then runs the web server on 127.0.0.1:8000
# and one Celery worker (with the periodic reaper). Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
echo "make demo: SQLite in var/, filesystem broker in var/broker (set DATABASE_URL / CELERY_BROKER_URL to change)"
make -s --no-print-directory install
mkdir -p var
$BIN/python manage.py migrate --noinput
$BIN/python manage.py seed_demo
$BIN/celery -A chartbusters worker -B --schedule var/celerybeat-schedule -Q generation,scoring,audio \
  --concurrency 1 --hostname "demo@%h" --without-mingle --without-gossip --loglevel INFO &
WORKER=$!
stop() {
  kill -TERM "$WORKER" 2>/dev/null || true
  wait "$WORKER" 2>/dev/null || true
}
trap stop EXIT
trap 'exit 130' INT TERM
echo "Chartbusters: http://127.0.0.1:8000/  (log in as entrant, judge or organizer; Ctrl-C stops the web server and the worker)"
$BIN/python manage.py runserver 127.0.0.1:8000
