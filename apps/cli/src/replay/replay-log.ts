import type pg from 'pg';
import { evolveAgent, type AgentState } from '#agent-state';
import { applyVfsEvent, emptyVfsState, type VfsState } from '#vfs-core';

export interface ReplayedAgent {
  kernel: AgentState;
  vfs: VfsState;
}

export interface ReplayResult {
  agents: Map<string, ReplayedAgent>;
  events: number;
  seconds: number;
  eventsPerSecond: number;
  lastPosition: number;
}

export interface ReplayOptions {
  /** Fold events up to and including this position (default: the whole log). */
  upTo?: number;
  /** Only this agent's stream. */
  agentId?: string;
  batchSize?: number;
  /** Ranges fetched ahead of the fold (whole-log replay). */
  prefetch?: number;
  onProgress?: (events: number, position: number) => void;
}

/**
 * Folds the log from the first event with the same reducers the services use: the whole state of
 * every agent (kernel and VFS) as of a position. Reads in position order, a page at a time, so
 * memory holds the state, not the history.
 */
export async function replayLog(pool: pg.Pool, o: ReplayOptions = {}): Promise<ReplayResult> {
  const started = performance.now();
  const agents = new Map<string, ReplayedAgent>();
  const batch = o.batchSize ?? 10_000;
  const stream = o.agentId ? `agent:${o.agentId}` : null;
  let events = 0;
  let after = 0;
  type Row = [number, string, number, string, number, string];
  const fold = (rows: Row[]) => {
    for (const [position, streamId, streamVersion, type, schemaVersion, dataJson] of rows) {
      const e = { type, schemaVersion, data: parseStored(dataJson), streamVersion, position };
      let a = agents.get(streamId);
      const kernel = evolveAgent(a?.kernel ?? null, e);
      if (kernel) {
        if (!a) {
          a = { kernel, vfs: emptyVfsState() };
          agents.set(streamId, a);
        } else a.kernel = kernel;
        applyVfsEvent(a.vfs, e);
      }
      after = position;
      events += 1;
    }
    o.onProgress?.(events, after);
  };

  if (stream) {
    // one agent: its stream index, a page at a time
    for (;;) {
      const r = await pool.query({
        text: `SELECT position, stream_id, stream_version, type, schema_version, data FROM events
                WHERE stream_id = $1 AND position > $2 AND ($3::bigint IS NULL OR position <= $3) ORDER BY stream_version LIMIT $4`,
        values: [stream, after, o.upTo ?? null, batch],
        rowMode: 'array',
      });
      fold(r.rows as Row[]);
      if (r.rows.length < batch) break;
    }
  } else {
    // the whole log: positions are dense, so it is read as ranges, several in flight at once,
    // and folded in order while the next ones are fetched
    const head = (await pool.query('SELECT position FROM log_head')).rows[0].position as number;
    const last = Math.min(head, o.upTo ?? head);
    const range = (from: number): Promise<Row[]> =>
      pool
        .query({
          text: `SELECT position, stream_id, stream_version, type, schema_version, data FROM events
                  WHERE position > $1 AND position <= $2 AND starts_with(stream_id, 'agent:') ORDER BY position`,
          values: [from, Math.min(from + batch, last)],
          rowMode: 'array',
        })
        .then((r) => r.rows as Row[]);
    const inFlight: Promise<Row[]>[] = [];
    let next = 0;
    const depth = o.prefetch ?? 3;
    while (next < last && inFlight.length < depth) {
      inFlight.push(range(next));
      next += batch;
    }
    while (inFlight.length) {
      const rows = await inFlight.shift()!;
      if (next < last) {
        inFlight.push(range(next));
        next += batch;
      }
      fold(rows);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    agents,
    events,
    seconds,
    eventsPerSecond: Math.round(events / Math.max(seconds, 1e-6)),
    lastPosition: after,
  };
}

/** Stored data is JSON text; a row that is not (tampered with) folds as a fault, never a crash. */
function parseStored(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
