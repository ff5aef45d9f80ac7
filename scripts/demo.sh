#!/usr/bin/env bash
# The demo on the embedded default (SQLite + filesystem broker, nothing else to install or start): creates
# .venv and installs (first run), migrates, seeds the demo data, then runs the web server on 127.0.0.1:8000
# and five Celery workers (queues below). Ctrl-C stops them all.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
echo "make demo: SQLite in var/, filesystem broker in var/broker (set DATABASE_URL / CELERY_BROKER_URL to change)"
make -s --no-print-directory install
mkdir -p var
$BIN/python manage.py migrate --noinput
$BIN/python manage.py seed_demo
# Five workers, so that scoring never queues behind a checkpoint run or an audio render, nor audio behind a
# challenge's realness-model training, nor a user's training run behind a realness model: one for scoring (with the
# periodic reaper, -B), one for generation and audio, one for Melody Harvest entries (never behind studio jobs), one
# for realness training, one for users' training runs. Each runs one task at a time.
WORKERS=()
$BIN/celery -A chartbusters worker -B --schedule var/celerybeat-schedule -Q scoring \
  --concurrency 1 --hostname "demo-scoring@%h" --without-mingle --without-gossip --loglevel INFO &
WORKERS+=($!)
$BIN/celery -A chartbusters worker -Q generation,audio \
  --concurrency 1 --hostname "demo-generation@%h" --without-mingle --without-gossip --loglevel INFO &
WORKERS+=($!)
$BIN/celery -A chartbusters worker -Q entries \
  --concurrency 1 --hostname "demo-entries@%h" --without-mingle --without-gossip --loglevel INFO &
WORKERS+=($!)
$BIN/celery -A chartbusters worker -Q training \
  --concurrency 1 --hostname "demo-training@%h" --without-mingle --without-gossip --loglevel INFO &
WORKERS+=($!)
$BIN/celery -A chartbusters worker -Q user-training \
  --concurrency 1 --hostname "demo-user-training@%h" --without-mingle --without-gossip --loglevel INFO &
WORKERS+=($!)
stop() {
  kill -TERM "${WORKERS[@]}" 2>/dev/null || true
  wait "${WORKERS[@]}" 2>/dev/null || true
}
trap stop EXIT
trap 'exit 130' INT TERM
echo "Chartbusters: http://127.0.0.1:8000/  (log in as entrant, judge or organizer; Ctrl-C stops the web server and the workers)"
$BIN/python manage.py runserver 127.0.0.1:8000
