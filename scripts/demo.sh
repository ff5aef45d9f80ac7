#!/usr/bin/env bash
# Starts the demo on the embedded default (SQLite + filesystem broker): web on 127.0.0.1:8000 and one worker.
# Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
mkdir -p var
$BIN/python manage.py migrate --noinput
$BIN/python manage.py seed_demo
$BIN/celery -A chartbusters worker -B --schedule var/celerybeat-schedule -Q generation,scoring,audio \
  --concurrency 1 --loglevel INFO &
WORKER=$!
trap 'kill $WORKER 2>/dev/null || true; wait $WORKER 2>/dev/null || true' EXIT INT TERM
$BIN/python manage.py runserver 127.0.0.1:8000
