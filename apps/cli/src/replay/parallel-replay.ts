import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type pg from 'pg';
import type { LogRangeOptions, ReplayStats } from '../../../../libs/event-store/src/log-replay.js';
import type { ReplayedAgent } from './agent-fold.js';
import type { ReplayWorkerData, ReplayWorkerResult, WorkerConnection } from './replay-worker.js';

/**
 * The compiled worker script, or null when there is none to run. Compiled code (dist/) runs its
 * sibling; TypeScript sources (Jest) run the compiled twin under dist/ when the build has one:
 * the same reducers the services run, as the services themselves run from dist/.
 */
export function replayWorkerUrl(): URL | null {
  const here = import.meta.url;
  if (here.endsWith('.js')) {
    const sibling = new URL('./replay-worker.js', here);
    return existsSync(fileURLToPath(sibling)) ? sibling : null;
  }
  const marker = '/apps/cli/src/replay/';
  const file = fileURLToPath(here);
  const at = file.lastIndexOf(marker);
  if (at < 0) return null;
  const twin = `${file.slice(0, at)}/dist${marker}replay-worker.js`;
  return existsSync(twin) ? pathToFileURL(twin) : null;
}

/** The connection a pool was made with, if a worker can open the same one (a connection string). */
export function workerConnection(pool: pg.Pool): WorkerConnection | null {
  const o = (pool as unknown as { options?: { connectionString?: unknown; options?: unknown } }).options;
  if (!o || typeof o.connectionString !== 'string') return null;
  return { connectionString: o.connectionString, ...(typeof o.options === 'string' ? { options: o.options } : {}) };
}

export interface ParallelReplayResult extends ReplayStats {
  agents: Map<string, ReplayedAgent>;
  /** Each agent's creation position and time (null unless the range reads times), in the map's order. */
  created: { position: number; time: string | null }[];
}

/**
 * Folds the log in `workers` worker threads, each replaying a disjoint share of the streams
 * (selected by a hash of stream_id in the SQL) with its own connections, then merges the agents
 * in creation order. Agents' streams are independent, so the result is the sequential one.
 */
export async function replayInParallel(
  workerUrl: URL,
  connection: WorkerConnection,
  range: LogRangeOptions,
  workers: number,
): Promise<ParallelReplayResult> {
  const started = Array.from({ length: workers }, (_, index) => {
    const data: ReplayWorkerData = { connection, range: { ...range, share: { index, of: workers } } };
    // a young generation that holds the ranges in flight: they die young instead of being promoted
    const w = new Worker(workerUrl, { workerData: data, resourceLimits: { maxYoungGenerationSizeMb: 64 } });
    return new Promise<ReplayWorkerResult>((resolve, reject) => {
      let result: ReplayWorkerResult | null = null;
      w.once('message', (m: ReplayWorkerResult) => (result = m));
      w.once('error', reject);
      w.once('exit', (code) =>
        result
          ? resolve(result)
          : reject(new Error(`replay worker ${index} exited with code ${code} before its result`)),
      );
    }).finally(() => void w.terminate());
  });
  const results = await Promise.allSettled(started);
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
  const shares = results.map((r) => (r as PromiseFulfilledResult<ReplayWorkerResult>).value);

  // merge the shares' agents by creation position (the order a sequential fold creates them in)
  const all = shares.flatMap((s) => s.agents);
  all.sort((a, b) => a[1] - b[1]);
  const agents = new Map<string, ReplayedAgent>();
  const created: ParallelReplayResult['created'] = [];
  for (const [streamId, position, a, time] of all) {
    created.push({ position, time });
    for (const f of a.vfs.files.values()) {
      // structured clone turns a Buffer into a plain Uint8Array: make it a Buffer again (no copy)
      if (!Buffer.isBuffer(f.content)) {
        const u8 = f.content as Uint8Array;
        f.content = Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
      }
    }
    agents.set(streamId, a);
  }
  return {
    agents,
    created,
    events: shares.reduce((n, s) => n + s.events, 0),
    lastPosition: Math.max(0, ...shares.map((s) => s.lastPosition)),
  };
}
