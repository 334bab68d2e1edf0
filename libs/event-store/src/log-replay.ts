import type pg from 'pg';
import type { RecordedEvent } from './event-record.js';

/**
 * An event as the replay driver hands it to a fold. The driver refills ONE object for every
 * event (no allocation per event): a fold reads it during the call and copies what it keeps.
 */
export interface LogEvent {
  position: number;
  streamId: string;
  streamVersion: number;
  eventId: string;
  type: string;
  schemaVersion: number;
  /** The stored JSON, parsed; `undefined` when the stored text is not JSON (only tampering puts such text there), which the folds count as a fault. */
  data: unknown;
  /** When the event was recorded (ISO); null unless the source carries it (`recordedAt: true`, or recorded events). */
  recordedAt: string | null;
}

/** Which part of the log a Postgres replay reads. */
export interface LogRangeOptions {
  /** Events after this position (default 0: from the first). */
  after?: number;
  /** Up to and including this position (default: the head when the replay starts). */
  upTo?: number;
  /** Only streams whose id starts with this (default `agent:`; '' for every stream). */
  streamPrefix?: string;
  /** Only this stream, read through its index a page at a time. */
  streamId?: string;
  /**
   * Only the streams whose hash falls in share `index` of `of` (decided in the SQL): disjoint
   * shares of the streams that independent folds replay in parallel.
   */
  share?: { index: number; of: number };
  /** Rows per range read (default 1000: ranges in flight stay small enough to die young). */
  batchSize?: number;
  /** Ranges read ahead of the fold (default 3; the pool needs as many connections). */
  prefetch?: number;
  /** Also read recorded_at (off by default: no fold needs it). */
  recordedAt?: boolean;
}

/** Where the driver reads: the Postgres log by dense position ranges, or events another reader already fetched (the recorder, over NATS). */
export type ReplaySource =
  ({ pool: pg.Pool } & LogRangeOptions) | AsyncIterable<RecordedEvent> | Iterable<RecordedEvent>;

export interface ReplayStats {
  events: number;
  /** Position of the last event handed over (0: none). */
  lastPosition: number;
}

/**
 * THE replay driver: hands every event of `source` to `visit`, in position order, one at a time,
 * and never throws on recorded data (text that is not JSON arrives as `data: undefined`).
 *
 * From Postgres it reads dense position ranges (positions have no gaps, so a range needs no
 * index lookups beyond the primary key), several in flight while the fold runs, as arrays with a
 * prepared statement, and parses nothing but `data`.
 */
export async function replayEvents(
  source: ReplaySource,
  visit: (e: LogEvent) => void,
  onProgress?: (s: ReplayStats) => void,
): Promise<ReplayStats> {
  if (isPgSource(source)) return replayFromPostgres(source.pool, source, visit, onProgress);
  const e = newLogEvent();
  const stats: ReplayStats = { events: 0, lastPosition: 0 };
  for await (const r of source) {
    e.position = r.position;
    e.streamId = r.streamId;
    e.streamVersion = r.streamVersion;
    e.eventId = r.eventId;
    e.type = r.type;
    e.schemaVersion = r.schemaVersion;
    e.data = r.data;
    e.recordedAt = r.recordedAt;
    visit(e);
    stats.events += 1;
    stats.lastPosition = r.position;
  }
  onProgress?.(stats);
  return stats;
}

/** Stored data is JSON text; text that is not (tampered with) is `undefined`, never an exception. */
export function parseStoredData(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * The share (0..of-1) a stream falls in, as the SQL decides it. Shares are disjoint and cover
 * every stream; the hash is Postgres's own (`hashtext`), so only Postgres computes it.
 */
export const SHARE_SQL = '(hashtext(stream_id) & 2147483647) % $4 = $5';

type Row = [
  position: number,
  streamId: string,
  streamVersion: number,
  eventId: string,
  type: string,
  schemaVersion: number,
  data: string,
  recordedAt?: Date,
];

function isPgSource(s: ReplaySource): s is { pool: pg.Pool } & LogRangeOptions {
  return typeof s === 'object' && s !== null && 'pool' in s;
}

function newLogEvent(): LogEvent {
  return {
    position: 0,
    streamId: '',
    streamVersion: 0,
    eventId: '',
    type: '',
    schemaVersion: 0,
    data: undefined,
    recordedAt: null,
  };
}

async function replayFromPostgres(
  pool: pg.Pool,
  o: LogRangeOptions,
  visit: (e: LogEvent) => void,
  onProgress?: (s: ReplayStats) => void,
): Promise<ReplayStats> {
  const e = newLogEvent();
  const stats: ReplayStats = { events: 0, lastPosition: 0 };
  const columns = `position, stream_id, stream_version, event_id::text, type, schema_version, data${o.recordedAt ? ', recorded_at' : ''}`;
  const withTime = o.recordedAt === true;
  const fold = (rows: Row[]) => {
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i];
      e.position = r[0];
      e.streamId = r[1];
      e.streamVersion = r[2];
      e.eventId = r[3];
      e.type = r[4];
      e.schemaVersion = r[5];
      e.data = parseStoredData(r[6]);
      e.recordedAt = withTime ? (r[7] as Date).toISOString() : null;
      visit(e);
    }
    if (rows.length) {
      stats.events += rows.length;
      stats.lastPosition = rows[rows.length - 1][0];
    }
    onProgress?.(stats);
  };
  const batch = Math.max(1, Math.floor(o.batchSize ?? 1000));
  const after = o.after ?? 0;

  if (o.streamId !== undefined) {
    // one stream: its (stream_id, stream_version) index, a page at a time
    let version = 0;
    for (;;) {
      const r = await pool.query<Row>({
        text: `SELECT ${columns} FROM events
                WHERE stream_id = $1 AND stream_version > $2 AND position > $3 AND ($4::bigint IS NULL OR position <= $4)
                ORDER BY stream_version LIMIT $5`,
        values: [o.streamId, version, after, o.upTo ?? null, batch],
        rowMode: 'array',
      });
      fold(r.rows);
      if (r.rows.length < batch) break;
      version = r.rows[r.rows.length - 1][2];
    }
    return stats;
  }

  // the whole log (or a share of its streams): dense ranges by position, read ahead of the fold
  const head = (await pool.query<{ position: number }>('SELECT position FROM log_head')).rows[0].position;
  const last = Math.min(head, o.upTo ?? head);
  const prefix = o.streamPrefix ?? 'agent:';
  const share = o.share && o.share.of > 1 ? o.share : null;
  // a share holds about 1/of of the rows of a range: widen the range so each read stays near `batch` rows
  const width = batch * (share?.of ?? 1);
  const text =
    `SELECT ${columns} FROM events WHERE position > $1 AND position <= $2 AND starts_with(stream_id, $3)` +
    `${share ? ` AND ${SHARE_SQL}` : ''} ORDER BY position`;
  const name = `log-replay-${share ? 's' : 'a'}${withTime ? 't' : ''}`;
  const range = (from: number): Promise<Row[]> =>
    pool
      .query<Row>({
        name,
        text,
        values: share
          ? [from, Math.min(from + width, last), prefix, share.of, share.index]
          : [from, Math.min(from + width, last), prefix],
        rowMode: 'array',
      })
      .then((r) => r.rows);
  const inFlight: Promise<Row[]>[] = [];
  let next = after;
  const depth = Math.max(1, o.prefetch ?? 3);
  const readAhead = () => {
    while (next < last && inFlight.length < depth) {
      const p = range(next);
      p.catch(() => undefined); // awaited in order below; a failure must not go unhandled meanwhile
      inFlight.push(p);
      next += width;
    }
  };
  try {
    readAhead();
    while (inFlight.length) {
      const rows = await inFlight.shift()!;
      readAhead();
      fold(rows);
    }
  } finally {
    // a failed read or fold: let the reads still in flight finish before the pool is released
    await Promise.allSettled(inFlight);
  }
  return stats;
}
