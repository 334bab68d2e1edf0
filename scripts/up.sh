#!/usr/bin/env bash
# One command from a fresh clone to a running system: install, build, start Postgres and NATS
# where installed but stopped, migrate, start the four services in the background.
# Logs and pids go to .run/; stop everything with scripts/down.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "up: installing dependencies (npm ci)"
  npm ci --no-audit --no-fund
fi
echo "up: building"
npm run --silent build
bash scripts/ensure-infra.sh
echo "up: migrating"
node dist/apps/cli/src/main.js migrate

mkdir -p .run
bash scripts/down.sh --quiet || true
for svc in recorder vfs policy kernel; do
  : > ".run/$svc.log"
  AGENTOS_LOG_FORMAT="${AGENTOS_LOG_FORMAT:-json}" nohup node "dist/apps/$svc/src/main.js" >> ".run/$svc.log" 2>&1 &
  echo $! > ".run/$svc.pid"
done
for svc in recorder vfs policy kernel; do
  for _ in $(seq 1 120); do
    grep -q '"service ready"' ".run/$svc.log" && break
    if ! kill -0 "$(cat ".run/$svc.pid")" 2>/dev/null; then
      echo "up: $svc exited; last lines of .run/$svc.log:" >&2; tail -n 20 ".run/$svc.log" >&2; exit 1
    fi
    sleep 0.25
  done
  grep -q '"service ready"' ".run/$svc.log" || { echo "up: $svc not ready; see .run/$svc.log" >&2; exit 1; }
  port="$(grep -o '"httpPort":[0-9]*' ".run/$svc.log" | tail -n1 | cut -d: -f2)"
  printf 'up: %-9s pid %-7s health http://127.0.0.1:%s/health/ready\n' "$svc" "$(cat ".run/$svc.pid")" "$port"
done
echo "up: Agent OS is running (stop it with: bash scripts/down.sh)"
