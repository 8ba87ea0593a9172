#!/usr/bin/env bash
# Install everything and run Leadex on the embedded default (SQLite, filesystem broker, a local
# Stripe server) with demo data, at http://127.0.0.1:5000. Ctrl-C stops every process it started.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
mkdir -p instance
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if ! port_open 8420; then
  echo "==> starting the local Stripe server (localstripe) on :8420"
  localstripe --port 8420 > instance/localstripe.log 2>&1 &
  pids+=($!)
  for _ in $(seq 50); do port_open 8420 && break; sleep 0.2; done
fi
echo "==> building the database"
# pipefail: a failed upgrade stops here; only the INFO chatter is filtered out.
flask db upgrade 2>&1 | { grep -v "^INFO" || true; }
echo "==> starting the Celery worker and beat (broker: ${REDIS_URL:-filesystem})"
celery -A wsgi:celery_app worker --beat --pool=solo --loglevel=INFO \
  > instance/celery.log 2>&1 &
pids+=($!)
flask demo 2>&1 | grep -v "^INFO"
flask billing register-webhook --url http://127.0.0.1:5000/api/v1/billing/stripe/webhook || true
echo "==> Leadex is at http://127.0.0.1:5000  (logs in instance/*.log; Ctrl-C to stop)"
gunicorn --workers 2 --threads 4 --bind 127.0.0.1:5000 --access-logfile - wsgi:app &
pids+=($!)
wait -n
