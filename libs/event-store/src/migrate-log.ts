import pg from 'pg';
import { logLayout, type LogLayout } from './log-layout.js';
import { runMigrations } from './migrate.js';

export interface MigrateLogSettings {
  pgUrl: string;
  pgSchema: string;
  /** AGENTOS_PG_PARTITIONS (see logLayout). */
  partitionMap?: string;
  /** The partition count for a new log (`--partitions`); an existing log keeps its own. */
  partitions?: number;
}

/**
 * Creates or upgrades the whole log: partition 0 (the deployment's schema, which records the
 * partition count), then every other partition's schema on its server. The count is chosen
 * once, when the log is created: asking an existing log for another count is an error (to grow,
 * see docs/event-log.md). Idempotent and safe to run from many replicas at once.
 */
export async function migrateLog(s: MigrateLogSettings): Promise<{ layout: LogLayout; applied: string[] }> {
  const applied = (await runMigrations({ pgUrl: s.pgUrl, pgSchema: s.pgSchema })).map((m) => `${s.pgSchema}: ${m}`);
  const partitions = await settlePartitionCount(s);
  const layout = logLayout({ pgUrl: s.pgUrl, pgSchema: s.pgSchema }, partitions, s.partitionMap);
  for (const p of layout.placements.slice(1)) {
    for (const m of await runMigrations({ pgUrl: p.pgUrl, pgSchema: p.pgSchema })) applied.push(`${p.pgSchema}: ${m}`);
    await withClient(p.pgUrl, async (c) => {
      await c.query(`UPDATE "${p.pgSchema}".log_config SET partitions = $1, partition = $2`, [partitions, p.partition]);
    });
  }
  return { layout, applied };
}

/** The log's partition count: the recorded one, or the requested one for a log with no events yet. */
async function settlePartitionCount(s: MigrateLogSettings): Promise<number> {
  return withClient(s.pgUrl, async (c) => {
    await c.query('BEGIN');
    try {
      const cfg = await c.query<{ partitions: number }>(`SELECT partitions FROM "${s.pgSchema}".log_config FOR UPDATE`);
      const recorded = cfg.rows[0].partitions;
      if (s.partitions === undefined || s.partitions === recorded) {
        await c.query('COMMIT');
        return recorded;
      }
      const head = await c.query<{ position: string }>(`SELECT position FROM "${s.pgSchema}".log_head`);
      if (Number(head.rows[0].position) > 0 || recorded !== 1) {
        throw new Error(
          `the log in schema ${s.pgSchema} has ${recorded} partition(s) and events already: the count is fixed ` +
            `when a log is created (see docs/event-log.md, "Growing the partition count")`,
        );
      }
      logLayout({ pgUrl: s.pgUrl, pgSchema: s.pgSchema }, s.partitions); // validates the count
      await c.query(`UPDATE "${s.pgSchema}".log_config SET partitions = $1, partition = 0`, [s.partitions]);
      await c.query('COMMIT');
      return s.partitions;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  });
}

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}
