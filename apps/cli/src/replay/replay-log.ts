import { availableParallelism } from 'node:os';
import type pg from 'pg';
import { agentStream } from '#contracts';
import { PartitionedLog } from '#event-store';
import { replayEvents, type LogRangeOptions } from '../../../../libs/event-store/src/log-replay.js';
import { AgentFold, type ReplayedAgent } from './agent-fold.js';
import { replayInParallel, replayWorkerUrl, workerConnection } from './parallel-replay.js';

export type { ReplayedAgent } from './agent-fold.js';

export interface ReplayResult {
  agents: Map<string, ReplayedAgent>;
  events: number;
  seconds: number;
  eventsPerSecond: number;
  /** Position of the last event folded (with several partitions: the largest over them; see `lastPositions`). */
  lastPosition: number;
  /** Each partition's last folded position (logs of several partitions only). */
  lastPositions?: number[];
  /** Worker threads that folded it (1: this thread). */
  workers: number;
}

export interface ReplayOptions {
  /**
   * Fold events up to and including this position (default: the whole log). With several
   * partitions: in every partition, or one position per partition.
   */
  upTo?: number | number[];
  /** Only this agent's stream. */
  agentId?: string;
  /** Rows per range read. */
  batchSize?: number;
  /** Ranges read ahead of the fold. */
  prefetch?: number;
  /**
   * Worker threads for the whole log (each folds a disjoint share of the streams). Default:
   * one per core, at most 4, when the log is long enough to repay their start (each loads pg and
   * the reducers: 0.1-0.2 s of CPU); 1 folds here. Without a compiled worker (TypeScript sources and no build) it folds here.
   */
  workers?: number;
  onProgress?: (events: number, position: number) => void;
}

/**
 * Below this many positions a replay folds here: starting workers costs more than it saves (on
 * 2 cores, measured: 27k events take 0.13-0.3 s here and 0.8 s with two workers; 540k events
 * take 2.7-3.1 s here and 2.0-3.1 s with two).
 */
export const PARALLEL_MIN_EVENTS = 250_000;

interface PoolReplay {
  agents: Map<string, ReplayedAgent>;
  created: { position: number; time: string | null }[];
  events: number;
  lastPosition: number;
  workers: number;
}

/**
 * Folds the log from the first event with the same reducers the services use: the whole state of
 * every agent (kernel and VFS) as of a position. Reads with the replay driver (dense ranges read
 * ahead of the fold), so memory holds the state, not the history.
 *
 * A log of several partitions is folded partition by partition: an agent's stream lives in one
 * partition, so every agent's state is exact. The agents are then listed in the merged order of
 * their first events (recorded time, then partition, then position), the order the audit query
 * shows them being created in.
 */
export async function replayLog(source: pg.Pool | PartitionedLog, o: ReplayOptions = {}): Promise<ReplayResult> {
  const started = performance.now();
  const log = source instanceof PartitionedLog ? source : PartitionedLog.single(source);
  const done = (r: Omit<ReplayResult, 'seconds' | 'eventsPerSecond'>): ReplayResult => {
    const seconds = (performance.now() - started) / 1000;
    return { ...r, seconds, eventsPerSecond: Math.round(r.events / Math.max(seconds, 1e-6)) };
  };
  const upTo = (p: number) => (Array.isArray(o.upTo) ? o.upTo[p] : o.upTo);
  if (log.partitions === 1 || o.agentId !== undefined) {
    const p = o.agentId !== undefined ? log.partitionOf(agentStream(o.agentId)) : 0;
    const r = await replayPool(log.pool(p), o, upTo(p), false);
    return done({
      agents: r.agents,
      events: r.events,
      lastPosition: r.lastPosition,
      ...(log.partitions > 1 ? { lastPositions: log.all().map((q) => (q === p ? r.lastPosition : 0)) } : {}),
      workers: r.workers,
    });
  }
  const parts: PoolReplay[] = [];
  let events = 0;
  for (const p of log.all()) {
    const r = await replayPool(
      log.pool(p),
      {
        ...o,
        onProgress: o.onProgress ? (n, position) => o.onProgress!(events + n, position) : undefined,
      },
      upTo(p),
      true,
    );
    events += r.events;
    parts.push(r);
  }
  const order = parts
    .flatMap((r, p) => [...r.agents].map(([streamId, a], i) => ({ streamId, a, p, ...r.created[i] })))
    .sort((x, y) => compareText(x.time ?? '', y.time ?? '') || x.p - y.p || x.position - y.position);
  return done({
    agents: new Map(order.map((x) => [x.streamId, x.a])),
    events,
    lastPosition: Math.max(0, ...parts.map((r) => r.lastPosition)),
    lastPositions: parts.map((r) => r.lastPosition),
    workers: Math.max(...parts.map((r) => r.workers)),
  });
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** One partition (or the only one) folded, in worker threads when it is long enough. */
async function replayPool(
  pool: pg.Pool,
  o: ReplayOptions,
  upTo: number | undefined,
  withTimes: boolean,
): Promise<PoolReplay> {
  const range: LogRangeOptions = {
    ...(upTo !== undefined ? { upTo } : {}),
    ...(o.batchSize !== undefined ? { batchSize: o.batchSize } : {}),
    ...(o.prefetch !== undefined ? { prefetch: o.prefetch } : {}),
    ...(withTimes ? { recordedAt: true } : {}),
  };
  if (!o.agentId) {
    const workers = await parallelism(pool, o, upTo);
    const url = workers > 1 ? replayWorkerUrl() : null;
    const connection = url ? workerConnection(pool) : null;
    if (url && connection) {
      const r = await replayInParallel(url, connection, range, workers);
      o.onProgress?.(r.events, r.lastPosition);
      return { ...r, workers };
    }
  }
  const fold = new AgentFold();
  const stats = await replayEvents(
    { pool, ...range, ...(o.agentId ? { streamId: agentStream(o.agentId) } : {}) },
    (e) => fold.apply(e),
    o.onProgress ? (s) => o.onProgress!(s.events, s.lastPosition) : undefined,
  );
  return {
    agents: fold.agents,
    created: fold.createdAt.map((position, i) => ({ position, time: fold.createdTime[i] })),
    ...stats,
    workers: 1,
  };
}

async function parallelism(pool: pg.Pool, o: ReplayOptions, upTo: number | undefined): Promise<number> {
  if (o.workers !== undefined) return Math.max(1, Math.floor(o.workers));
  const cores = Math.min(4, availableParallelism());
  if (cores < 2) return 1;
  const head = (await pool.query<{ position: number }>('SELECT position FROM log_head')).rows[0].position;
  return Math.min(head, upTo ?? head) >= PARALLEL_MIN_EVENTS ? cores : 1;
}
