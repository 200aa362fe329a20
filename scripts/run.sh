#!/usr/bin/env bash
# Start the web server and the Celery worker (with beat) together; Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
# Without SITE_URL, settings derive the public address (payment returns, e-mail links) from
# HOST and PORT, for the web server and the worker alike.
export HOST PORT

pids=()
stop() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

if [ -z "${REDIS_URL:-}" ]; then
  echo "REDIS_URL is not set: Celery uses the embedded broker under var/celery/."
fi
"$BIN/celery" -A pecshop worker --beat --loglevel=INFO --concurrency=2 \
  --schedule "${VAR_DIR:-var}/celerybeat-schedule" &
pids+=($!)

echo "The shop: http://$HOST:$PORT/  (Ctrl-C stops the server and the worker)"
"$BIN/python" manage.py runserver "$HOST:$PORT" &
pids+=($!)

# Whichever stops first (a crash or Ctrl-C) stops the other.
wait -n
