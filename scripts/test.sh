#!/usr/bin/env bash
# Every check and every test: format, lint, types, build, then unit, integration and end-to-end
# tests against the real Postgres and NATS (started first where installed but stopped).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/ensure-infra.sh
echo "test: format check";  npx prettier --check --log-level warn .
echo "test: lint";          npx eslint --max-warnings 0 .
echo "test: type check";    npx tsc -p tsconfig.json --noEmit
echo "test: build";         npm run --silent build
echo "test: jest (unit, integration, e2e)"
node --experimental-vm-modules --no-warnings=ExperimentalWarning node_modules/jest/bin/jest.js --maxWorkers=2 "$@"
