import { availableParallelism } from 'node:os';
import type pg from 'pg';
import { agentStream } from '#contracts';
import { replayEvents, type LogRangeOptions } from '../../../../libs/event-store/src/log-replay.js';
import { AgentFold, type ReplayedAgent } from './agent-fold.js';
import { replayInParallel, replayWorkerUrl, workerConnection } from './parallel-replay.js';

export type { ReplayedAgent } from './agent-fold.js';

export interface ReplayResult {
  agents: Map<string, ReplayedAgent>;
  events: number;
  seconds: number;
  eventsPerSecond: number;
  lastPosition: number;
  /** Worker threads that folded it (1: this thread). */
  workers: number;
}

export interface ReplayOptions {
  /** Fold events up to and including this position (default: the whole log). */
  upTo?: number;
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

/**
 * Folds the log from the first event with the same reducers the services use: the whole state of
 * every agent (kernel and VFS) as of a position. Reads with the replay driver (dense ranges read
 * ahead of the fold), so memory holds the state, not the history.
 */
export async function replayLog(pool: pg.Pool, o: ReplayOptions = {}): Promise<ReplayResult> {
  const started = performance.now();
  const range: LogRangeOptions = {
    ...(o.upTo !== undefined ? { upTo: o.upTo } : {}),
    ...(o.batchSize !== undefined ? { batchSize: o.batchSize } : {}),
    ...(o.prefetch !== undefined ? { prefetch: o.prefetch } : {}),
  };
  const done = (r: { agents: Map<string, ReplayedAgent>; events: number; lastPosition: number }, workers: number) => {
    const seconds = (performance.now() - started) / 1000;
    return {
      ...r,
      seconds,
      eventsPerSecond: Math.round(r.events / Math.max(seconds, 1e-6)),
      workers,
    };
  };

  if (!o.agentId) {
    const workers = await parallelism(pool, o);
    const url = workers > 1 ? replayWorkerUrl() : null;
    const connection = url ? workerConnection(pool) : null;
    if (url && connection) {
      const r = await replayInParallel(url, connection, range, workers);
      o.onProgress?.(r.events, r.lastPosition);
      return done(r, workers);
    }
  }
  const fold = new AgentFold();
  const stats = await replayEvents(
    { pool, ...range, ...(o.agentId ? { streamId: agentStream(o.agentId) } : {}) },
    (e) => fold.apply(e),
    o.onProgress ? (s) => o.onProgress!(s.events, s.lastPosition) : undefined,
  );
  return done({ agents: fold.agents, ...stats }, 1);
}

async function parallelism(pool: pg.Pool, o: ReplayOptions): Promise<number> {
  if (o.workers !== undefined) return Math.max(1, Math.floor(o.workers));
  const cores = Math.min(4, availableParallelism());
  if (cores < 2) return 1;
  const head = (await pool.query<{ position: number }>('SELECT position FROM log_head')).rows[0].position;
  return Math.min(head, o.upTo ?? head) >= PARALLEL_MIN_EVENTS ? cores : 1;
}
