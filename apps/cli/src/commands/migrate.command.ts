import { InvalidArgumentError, type Command } from 'commander';
import { loadConfig } from '#config';
import { MAX_PARTITIONS } from '#contracts';
import { migrateLog } from '#event-store';
import type { CliOutput } from '../output.js';

export function registerMigrate(program: Command, out: CliOutput): void {
  program
    .command('migrate')
    .description(
      'create the database and schemas if missing and apply pending migrations, on every partition ' +
        '(AGENTOS_PG_PARTITIONS places partitions on other servers)',
    )
    .option(
      '--partitions <n>',
      `partitions of a new log (1-${MAX_PARTITIONS}; default AGENTOS_PARTITIONS); fixed once the log has events`,
      (v: string) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1 || n > MAX_PARTITIONS) {
          throw new InvalidArgumentError(`a whole number from 1 to ${MAX_PARTITIONS}`);
        }
        return n;
      },
    )
    .action(async (o: { partitions?: number }) => {
      const c = loadConfig('cli');
      const fromEnv = process.env.AGENTOS_PARTITIONS;
      if (o.partitions === undefined && fromEnv) {
        const n = Number(fromEnv);
        if (!Number.isInteger(n) || n < 1 || n > MAX_PARTITIONS) {
          throw new Error(`AGENTOS_PARTITIONS must be a whole number from 1 to ${MAX_PARTITIONS}`);
        }
        o.partitions = n;
      }
      const { layout, applied } = await migrateLog({
        pgUrl: c.pgUrl,
        pgSchema: c.pgSchema,
        partitionMap: c.pgPartitionMap,
        partitions: o.partitions,
      });
      const placements = layout.placements.map((p) => ({
        partition: p.partition,
        schema: p.pgSchema,
        server: redact(p.pgUrl),
      }));
      const text = [
        applied.length ? `applied: ${applied.join(', ')}` : `schema ${c.pgSchema} is up to date`,
        `log of ${layout.partitions} partition(s)` +
          (layout.partitions > 1
            ? `: ${placements.map((p) => `${p.partition}→${p.schema}@${p.server}`).join(', ')}`
            : ''),
      ].join('\n');
      out.result({ schema: c.pgSchema, partitions: layout.partitions, placements, applied }, text);
    });
}

/** A connection URL without its password, for printing. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return `${u.host}${u.pathname}`;
  } catch {
    return '(unparsable url)';
  }
}
