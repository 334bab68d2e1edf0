import type pg from 'pg';
import { foldAgentEvent, type AgentState } from '#agent-state';
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
  const page = async (from: number): Promise<Row[]> =>
    (
      await pool.query({
        text: `SELECT position, stream_id, stream_version, type, schema_version, data FROM events
                WHERE position > $1 AND ($2::bigint IS NULL OR position <= $2) AND ($3::text IS NULL OR stream_id = $3)
                  AND starts_with(stream_id, 'agent:')
                ORDER BY position LIMIT $4`,
        values: [from, o.upTo ?? null, stream, batch],
        rowMode: 'array',
      })
    ).rows as Row[];
  // The next page is fetched while this one is folded: Postgres and the fold overlap.
  let rows = await page(0);
  for (;;) {
    const next = rows.length === batch ? page(rows[rows.length - 1][0]) : null;
    for (const [position, streamId, streamVersion, type, schemaVersion, dataJson] of rows) {
      const e = { type, schemaVersion, data: JSON.parse(dataJson) as unknown, streamVersion, position };
      let a = agents.get(streamId);
      const kernel = foldAgentEvent(a?.kernel ?? null, e);
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
    if (!next) break;
    rows = await next;
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
