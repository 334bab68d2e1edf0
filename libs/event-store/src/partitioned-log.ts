import type pg from 'pg';
import { partitionOf } from '#contracts';
import { logLayout, type LogLayout } from './log-layout.js';
import { isConnectionError } from './errors.js';
import { createPgPool, type PgSettings } from './pg-pool.js';

/** createPgPool's default pool size. */
const DEFAULT_POOL_SIZE = 8;

export interface PartitionedLogSettings extends Omit<PgSettings, 'pgSchema' | 'pgUrl'> {
  /** The deployment's server and schema: partition 0, and where the partition count is kept. */
  pgUrl: string;
  pgSchema: string;
  /** AGENTOS_PG_PARTITIONS: where partitions other than on the base server live. */
  partitionMap?: string;
}

/**
 * The log as a process sees it: how many partitions, and a pool per partition (each scoped to
 * that partition's schema, on its server). Every reader and writer asks it for the pool of a
 * stream's partition; with one partition there is one pool and nothing else changes.
 */
export class PartitionedLog {
  private constructor(
    readonly layout: LogLayout,
    private readonly pools: pg.Pool[],
  ) {}

  /**
   * Reads the partition count from partition 0 (`log_config`) and opens a pool per partition.
   * While partition 0's server cannot be reached it keeps trying (the count decides where every
   * stream lives, so nothing can be served without it), telling `onWait` each time.
   */
  static async open(s: PartitionedLogSettings, onWait?: (err: Error) => void): Promise<PartitionedLog> {
    const partitions = await readPartitionCount(s, onWait);
    const layout = logLayout({ pgUrl: s.pgUrl, pgSchema: s.pgSchema }, partitions, s.partitionMap);
    // the process's connections are shared out among the partitions (at least 2 each), so that a
    // log of many partitions does not multiply what a process may hold open
    const size = s.poolSize ?? DEFAULT_POOL_SIZE;
    const each = partitions === 1 ? size : Math.max(2, Math.ceil(size / partitions));
    const pools = layout.placements.map((p) =>
      createPgPool({ ...s, poolSize: each, pgUrl: p.pgUrl, pgSchema: p.pgSchema }),
    );
    return new PartitionedLog(layout, pools);
  }

  /** One pool for a single-partition log (tests and tools that hold a pool already). */
  static single(pool: pg.Pool, pgSchema = ''): PartitionedLog {
    return new PartitionedLog({ partitions: 1, placements: [{ partition: 0, pgUrl: '', pgSchema }] }, [pool]);
  }

  get partitions(): number {
    return this.layout.partitions;
  }

  /** The pool of partition `p`. */
  pool(p: number): pg.Pool {
    const pool = this.pools[p];
    if (!pool) throw new RangeError(`the log has no partition ${p}`);
    return pool;
  }

  /** The pool of the partition a stream lives in. */
  poolOf(streamId: string): pg.Pool {
    return this.pools[partitionOf(streamId, this.partitions)];
  }

  partitionOf(streamId: string): number {
    return partitionOf(streamId, this.partitions);
  }

  /** Every partition number, 0 first. */
  all(): number[] {
    return this.pools.map((_, p) => p);
  }

  async close(): Promise<void> {
    await Promise.all(this.pools.map((p) => p.end().catch(() => undefined)));
  }
}

async function readPartitionCount(s: PartitionedLogSettings, onWait?: (err: Error) => void): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const probe = createPgPool({ ...s, poolSize: 1 });
    try {
      const r = await probe.query<{ partitions: number }>('SELECT partitions FROM log_config');
      return r.rows[0]?.partitions ?? 1;
    } catch (err) {
      // a schema not yet migrated: one partition (readiness reports the pending migration)
      if ((err as { code?: string }).code === '42P01') return 1;
      // unreachable, starting up (57P03), or not created yet (3D000: `migrate` creates it): wait
      const code = (err as { code?: string }).code;
      if (!isConnectionError(err) && code !== '57P03' && code !== '3D000') throw err;
      onWait?.(err as Error);
      await new Promise((r) => setTimeout(r, Math.min(5000, 250 * 2 ** Math.min(attempt, 5))));
    } finally {
      await probe.end().catch(() => undefined);
    }
  }
}
