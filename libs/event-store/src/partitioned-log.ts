import type pg from 'pg';
import { partitionOf } from '#contracts';
import { logLayout, type LogLayout } from './log-layout.js';
import { createPgPool, type PgSettings } from './pg-pool.js';

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

  /** Reads the partition count from partition 0 (`log_config`) and opens a pool per partition. */
  static async open(s: PartitionedLogSettings): Promise<PartitionedLog> {
    const home = createPgPool({ ...s, pgSchema: s.pgSchema });
    let partitions = 1;
    try {
      const r = await home.query<{ partitions: number }>('SELECT partitions FROM log_config');
      partitions = r.rows[0]?.partitions ?? 1;
    } catch (err) {
      // a schema not yet migrated: one partition (readiness reports the pending migration)
      if ((err as { code?: string }).code !== '42P01') {
        await home.end().catch(() => undefined);
        throw err;
      }
    }
    const layout = logLayout({ pgUrl: s.pgUrl, pgSchema: s.pgSchema }, partitions, s.partitionMap);
    const pools = layout.placements.map((p) =>
      p.partition === 0 ? home : createPgPool({ ...s, pgUrl: p.pgUrl, pgSchema: p.pgSchema }),
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
