#!/usr/bin/env bash
# Every check and every test: format, lint, types, build, then unit, integration and end-to-end
# tests against the real Postgres and NATS (started first where installed but stopped), and the
# end-to-end tests once more on a log of four partitions.
set -euo pipefail
cd "$(dirname "$0")/.."

JEST=(node --experimental-vm-modules --no-warnings=ExperimentalWarning node_modules/jest/bin/jest.js --maxWorkers=2)

bash scripts/ensure-infra.sh
echo "test: format check";  npx prettier --check --log-level warn .
echo "test: lint";          npx eslint --max-warnings 0 .
echo "test: type check";    npx tsc -p tsconfig.json --noEmit
echo "test: build";         npm run --silent build
echo "test: jest (unit, integration, e2e; a log of one partition)"
AGENTOS_TEST_PARTITIONS=1 "${JEST[@]}" "$@"
# The deployments of the end-to-end tests again, on a log of four partitions: positions
# `<partition>:<offset>`, a chain and head per partition, signals between agents of different
# partitions through the relay. (Unit and integration tests start no deployment: once is enough.)
echo "test: jest (e2e; a log of four partitions)"
AGENTOS_TEST_PARTITIONS=4 "${JEST[@]}" --selectProjects e2e --passWithNoTests "$@"
