#!/usr/bin/env bash
# Stops the services started by scripts/up.sh: SIGTERM (they drain), SIGKILL after 30 s.
set -uo pipefail
cd "$(dirname "$0")/.."
quiet="${1:-}"
shopt -s nullglob
pids=()
for f in .run/*.pid; do
  pid="$(cat "$f")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" && pids+=("$pid")
    [ "$quiet" = "--quiet" ] || echo "down: stopping $(basename "$f" .pid) (pid $pid)"
  fi
  rm -f "$f"
done
for _ in $(seq 1 120); do
  alive=0
  for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
  [ "$alive" = 0 ] && exit 0
  sleep 0.25
done
for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
