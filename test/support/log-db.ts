import type pg from 'pg';
import { formatPosition } from '#contracts';
import { createPgPool, partitionSchema, verifyChain, type VerifyReport } from '#event-store';
import { TEST_PG_URL } from './test-env.js';

/**
 * A test deployment's log as Postgres holds it, for assertions that look past the services: every
 * partition's schema (`<schema>` for partition 0, `<schema>_p<k>` for the others), each through
 * a pool with the login (owner) role. With one partition it is exactly the one schema.
 */
export interface LogDb {
  /** The log's partition count, as its `log_config` records it. */
  partitions: number;
  /** The schema of each partition, partition 0 first. */
  schemas: string[];
  /** The pool of partition `p` (search_path set to its schema). */
  pool(p: number): pg.Pool;
  /**
   * `sql` run on every partition's schema: the rows of partition 0, then 1, ..., each with its
   * `partition` (an ORDER BY orders the rows of each partition, as each has its own positions).
   */
  query<R extends object = Record<string, any>>(
    sql: string,
    params?: unknown[],
  ): Promise<(R & { partition: number })[]>;
  /**
   * Every partition's hash chain verified, partition 0 first (with several partitions, also that
   * each event's stream belongs to the partition it is in).
   */
  verify(): Promise<(VerifyReport & { partition: number })[]>;
  /** A row's place in the log as replies name it: `42` with one partition, `3:42` with several. */
  position(row: { partition: number; position: number }): string;
  end(): Promise<void>;
}

/** Opens every partition of the log whose partition 0 is `schema` (on `pgUrl`, the test server by default). */
export async function openLogDb(schema: string, pgUrl = TEST_PG_URL): Promise<LogDb> {
  const home = createPgPool({ pgUrl, pgSchema: schema, pgRole: '' });
  let partitions: number;
  try {
    partitions = (await home.query<{ partitions: number }>('SELECT partitions FROM log_config')).rows[0].partitions;
  } catch (err) {
    await home.end();
    throw err;
  }
  const schemas = Array.from({ length: partitions }, (_, p) => partitionSchema(schema, p));
  const pools = schemas.map((s, p) => (p === 0 ? home : createPgPool({ pgUrl, pgSchema: s, pgRole: '' })));
  return {
    partitions,
    schemas,
    pool: (p) => {
      const pool = pools[p];
      if (!pool) throw new RangeError(`the log has no partition ${p}`);
      return pool;
    },
    async query<R extends object>(sql: string, params?: unknown[]) {
      const pages = await Promise.all(pools.map((pool) => pool.query(sql, params)));
      return pages.flatMap((r, partition) => r.rows.map((row) => ({ ...(row as R), partition })));
    },
    async verify() {
      return Promise.all(
        pools.map(async (pool, partition) => ({ ...(await verifyChain(pool, { partition, partitions })), partition })),
      );
    },
    position: (row) => formatPosition(row.partition, row.position, partitions),
    async end() {
      await Promise.all(pools.map((p) => p.end().catch(() => undefined)));
    },
  };
}
