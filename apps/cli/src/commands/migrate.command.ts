import type { Command } from 'commander';
import { loadConfig } from '#config';
import { runMigrations } from '#event-store';
import type { CliOutput } from '../output.js';

export function registerMigrate(program: Command, out: CliOutput): void {
  program
    .command('migrate')
    .description('create the database and schema if missing and apply pending migrations')
    .action(async () => {
      const c = loadConfig('cli');
      const applied = await runMigrations({ pgUrl: c.pgUrl, pgSchema: c.pgSchema });
      out.result(
        { schema: c.pgSchema, applied },
        applied.length ? `schema ${c.pgSchema}: applied ${applied.join(', ')}` : `schema ${c.pgSchema} is up to date`,
      );
    });
}
