import { parentPort, workerData } from 'node:worker_threads';
import pg from 'pg';
import { replayEvents, type LogRangeOptions } from '../../../../libs/event-store/src/log-replay.js';
import { AgentFold, type ReplayedAgent } from './agent-fold.js';

/** The connection a worker opens: the same database and session options as the caller's pool. */
export interface WorkerConnection {
  connectionString: string;
  /** Session options, e.g. `-c search_path=... -c role=...`. */
  options?: string;
}

/** What parallel-replay.ts starts a worker with. */
export interface ReplayWorkerData {
  connection: WorkerConnection;
  range: LogRangeOptions;
}

/** What a worker posts back once: its share folded, agents in creation order. */
export interface ReplayWorkerResult {
  agents: [streamId: string, createdAt: number, agent: ReplayedAgent, createdTime: string | null][];
  events: number;
  lastPosition: number;
}

const INT8_OID = 20;

// One share of the streams, replayed by the same driver and fold as the sequential replay.
const { connection, range } = workerData as ReplayWorkerData;
const pool = new pg.Pool({
  connectionString: connection.connectionString,
  options: connection.options,
  max: (range.prefetch ?? 3) + 1,
  application_name: 'agentos-replay',
  types: {
    getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
      oid === INT8_OID
        ? (v: string) => Number(v)
        : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
  },
});
pool.on('error', () => undefined);
try {
  const fold = new AgentFold();
  const stats = await replayEvents({ pool, ...range }, (e) => fold.apply(e));
  const agents: ReplayWorkerResult['agents'] = [];
  let i = 0;
  for (const [streamId, a] of fold.agents) {
    agents.push([streamId, fold.createdAt[i], a, fold.createdTime[i]]);
    i += 1;
  }
  parentPort!.postMessage({
    agents,
    events: stats.events,
    lastPosition: stats.lastPosition,
  } satisfies ReplayWorkerResult);
} finally {
  await pool.end();
}
