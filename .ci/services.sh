#!/usr/bin/env bash
# Install (Debian packages) and start throwaway PostgreSQL and Redis servers on loopback; export
# TEST_DATABASE_URL and TEST_REDIS_URL. Source it; stop_services undoes it.
set -euo pipefail
missing=()
ls /usr/lib/postgresql/*/bin/initdb > /dev/null 2>&1 || missing+=(postgresql)
command -v redis-server > /dev/null || missing+=(redis-server)
[ -x /usr/bin/chromium ] || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" > /dev/null
fi
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
PGPORT=${PGPORT:-54329}
REDISPORT=${REDISPORT:-63790}
PGDATA=$(mktemp -d /tmp/leadex-pg.XXXXXX)
chown postgres "$PGDATA"
su postgres -s /bin/sh -c "$PGBIN/initdb -D $PGDATA -A trust -U postgres > /dev/null"
su postgres -s /bin/sh -c "$PGBIN/pg_ctl -D $PGDATA -l $PGDATA/server.log -w start \
  -o '-p $PGPORT -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
  -c full_page_writes=off -c max_connections=200'" > /dev/null
su postgres -s /bin/sh -c "$PGBIN/createdb -h 127.0.0.1 -p $PGPORT leadex_test"
redis-server --port "$REDISPORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
  --pidfile "/tmp/leadex-redis-$REDISPORT.pid" > /dev/null
export TEST_DATABASE_URL="postgresql://postgres@127.0.0.1:$PGPORT/leadex_test"
export TEST_REDIS_URL="redis://127.0.0.1:$REDISPORT/0"
stop_services() {
  su postgres -s /bin/sh -c "$PGBIN/pg_ctl -D $PGDATA -m immediate stop" > /dev/null 2>&1 || true
  kill "$(cat /tmp/leadex-redis-$REDISPORT.pid 2>/dev/null)" 2>/dev/null || true
  rm -rf "$PGDATA"
}
echo "==> PostgreSQL at $TEST_DATABASE_URL, Redis at $TEST_REDIS_URL"
