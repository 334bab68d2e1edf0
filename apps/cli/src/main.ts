import 'reflect-metadata';
import { Command } from 'commander';
import { registerAudit } from './commands/audit.command.js';
import { registerBench } from './commands/bench.command.js';
import { registerHealth } from './commands/health.command.js';
import { registerMigrate } from './commands/migrate.command.js';
import { registerNatsAuth } from './commands/nats-auth.command.js';
import { registerNatsConfig } from './commands/nats-config.command.js';
import { registerPolicy } from './commands/policy.command.js';
import { registerReplay } from './commands/replay.command.js';
import { registerWhatIf } from './commands/whatif.command.js';
import { CliOutput } from './output.js';

const out = new CliOutput();
const program = new Command()
  .name('agentos')
  .description('Agent OS command line: operations, policy, audit and benchmarks')
  .option('--json', 'machine-readable output (JSON, or JSON lines for streams)')
  .hook('preAction', (cmd) => {
    out.json = Boolean(cmd.optsWithGlobals().json);
  });

registerMigrate(program, out);
registerBench(program, out);
registerPolicy(program, out);
registerAudit(program, out);
registerReplay(program, out);
registerWhatIf(program, out);
registerNatsConfig(program, out);
registerNatsAuth(program, out);
registerHealth(program, out);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  const message = err instanceof Error ? err.message : String(err);
  if (out.json) process.stdout.write(JSON.stringify({ error: { message } }) + '\n');
  else process.stderr.write(`agentos: ${message}\n`);
  process.exitCode = 1;
}
