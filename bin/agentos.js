#!/usr/bin/env node
// The `agentos` command line (compiled by `npm run build`).
await import('../dist/apps/cli/src/main.js');
