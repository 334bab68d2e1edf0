#!/usr/bin/env bash
# Makes sure Postgres and NATS (with JetStream) answer. Where one is installed on this machine but
# not running, it is started; where it is neither running nor installed, say how to get it.
set -euo pipefail

PG_URL="${AGENTOS_PG_URL:-postgres://postgres@127.0.0.1:5432/agentos}"
NATS_URL="${AGENTOS_NATS_URL:-nats://127.0.0.1:4222}"

hostport() { # URL -> "host port"
  local rest="${1#*://}"; rest="${rest#*@}"; rest="${rest%%/*}"; rest="${rest%%,*}"
  local host="${rest%%:*}" port="${rest##*:}"
  [ "$port" = "$rest" ] && port="$2"
  echo "$host $port"
}

listening() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

wait_for() { # host port name
  for _ in $(seq 1 60); do listening "$1" "$2" && return 0; sleep 0.5; done
  echo "ensure-infra: $3 did not come up on $1:$2" >&2; return 1
}

is_local() { [ "$1" = "127.0.0.1" ] || [ "$1" = "localhost" ] || [ "$1" = "::1" ]; }

read -r PG_HOST PG_PORT < <(hostport "$PG_URL" 5432)
read -r NATS_HOST NATS_PORT < <(hostport "$NATS_URL" 4222)

if listening "$PG_HOST" "$PG_PORT"; then
  echo "ensure-infra: Postgres answers on $PG_HOST:$PG_PORT"
elif is_local "$PG_HOST" && command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
  version="$(ls /etc/postgresql | sort -V | tail -n1)"
  echo "ensure-infra: starting Postgres $version (cluster main)"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
  wait_for "$PG_HOST" "$PG_PORT" Postgres
elif is_local "$PG_HOST" && command -v pg_ctl >/dev/null && [ -n "${PGDATA:-}" ]; then
  echo "ensure-infra: starting Postgres from $PGDATA"
  pg_ctl -D "$PGDATA" -l "$PGDATA/agentos-start.log" start
  wait_for "$PG_HOST" "$PG_PORT" Postgres
else
  echo "ensure-infra: Postgres is not reachable on $PG_HOST:$PG_PORT and not installed here; run 'docker compose up -d postgres nats' or set AGENTOS_PG_URL" >&2
  exit 1
fi

if listening "$NATS_HOST" "$NATS_PORT"; then
  echo "ensure-infra: NATS answers on $NATS_HOST:$NATS_PORT"
else
  bin="$(command -v nats-server || true)"
  [ -z "$bin" ] && [ -x /usr/sbin/nats-server ] && bin=/usr/sbin/nats-server
  if is_local "$NATS_HOST" && [ -n "$bin" ]; then
    store="${NATS_STORE_DIR:-/var/lib/nats-server}"
    mkdir -p "$store" 2>/dev/null || store="${TMPDIR:-/tmp}/agentos-nats-store"
    mkdir -p "$store"
    log="/var/log/nats-server.log"; touch "$log" 2>/dev/null || log="${TMPDIR:-/tmp}/agentos-nats-server.log"
    echo "ensure-infra: starting nats-server with JetStream on port $NATS_PORT"
    if command -v start-stop-daemon >/dev/null; then
      start-stop-daemon --start --oknodo --background --exec "$bin" -- -a 127.0.0.1 -p "$NATS_PORT" -js -sd "$store" -l "$log"
    else
      nohup "$bin" -a 127.0.0.1 -p "$NATS_PORT" -js -sd "$store" -l "$log" >/dev/null 2>&1 &
    fi
    wait_for "$NATS_HOST" "$NATS_PORT" NATS
  else
    echo "ensure-infra: NATS is not reachable on $NATS_HOST:$NATS_PORT and nats-server is not installed; run 'docker compose up -d nats' or set AGENTOS_NATS_URL" >&2
    exit 1
  fi
fi
