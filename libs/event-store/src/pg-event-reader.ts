import type pg from 'pg';
import { EVENT_COLUMNS as COLUMNS, type EventRow } from './event-json.js';
import type { EventMetadata, JsonValue, LogHead, RecordedEvent } from './event-record.js';

export interface ReadStreamOptions {
  /** First stream version to return (default 1). */
  fromVersion?: number;
  /** Last stream version to return (inclusive). */
  toVersion?: number;
  limit?: number;
}

export interface ReadAllOptions {
  /** Return events with a position greater than this (default 0: from the start). */
  after?: number;
  /** Last position to return (inclusive). */
  toPosition?: number;
  limit?: number;
  /** Only events of these types. */
  types?: string[];
  /** Only events of streams whose id starts with this. */
  streamPrefix?: string;
}

export const MAX_READ_LIMIT = 10000;

/** Reads committed events. Every read sees a prefix of the log (positions are dense and ordered). */
export class PgEventReader {
  constructor(private readonly pool: pg.Pool) {}

  async head(): Promise<LogHead> {
    const r = await this.pool.query('SELECT position, hash, recorded_at FROM log_head');
    const row = r.rows[0] as { position: number; hash: string; recorded_at: Date | null };
    return { position: row.position, hash: row.hash, recordedAt: row.recorded_at?.toISOString() ?? null };
  }

  async streamVersion(streamId: string): Promise<number> {
    const r = await this.pool.query(
      'SELECT stream_version FROM events WHERE stream_id = $1 ORDER BY stream_version DESC LIMIT 1',
      [streamId],
    );
    return r.rowCount ? (r.rows[0].stream_version as number) : 0;
  }

  async readStream(streamId: string, o: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    return (await this.readStreamRows(streamId, o)).map(toRecordedEvent);
  }

  /** The stream's rows as stored (data and metadata as text). */
  async readStreamRows(streamId: string, o: ReadStreamOptions = {}): Promise<EventRow[]> {
    const r = await this.pool.query<EventRow>(
      `SELECT ${COLUMNS} FROM events
        WHERE stream_id = $1 AND stream_version >= $2 AND ($3::bigint IS NULL OR stream_version <= $3)
        ORDER BY stream_version LIMIT $4`,
      [streamId, o.fromVersion ?? 1, o.toVersion ?? null, clampLimit(o.limit)],
    );
    return r.rows;
  }

  async readAll(o: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    return (await this.readAllRows(o)).map(toRecordedEvent);
  }

  /** Rows by position as stored (data and metadata as text). */
  async readAllRows(o: ReadAllOptions = {}): Promise<EventRow[]> {
    const r = await this.pool.query<EventRow>(
      `SELECT ${COLUMNS} FROM events
        WHERE position > $1 AND ($2::bigint IS NULL OR position <= $2)
          AND ($3::text[] IS NULL OR type = ANY($3))
          AND ($4::text IS NULL OR starts_with(stream_id, $4))
        ORDER BY position LIMIT $5`,
      [o.after ?? 0, o.toPosition ?? null, o.types ?? null, o.streamPrefix ?? null, clampLimit(o.limit)],
    );
    return r.rows;
  }

  async findByEventIds(eventIds: string[]): Promise<RecordedEvent[]> {
    if (eventIds.length === 0) return [];
    const r = await this.pool.query(
      `SELECT ${COLUMNS} FROM events WHERE event_id = ANY($1::uuid[]) ORDER BY position`,
      [eventIds],
    );
    return r.rows.map(toRecordedEvent);
  }

  async findByIdempotencyKey(streamId: string, key: string): Promise<RecordedEvent | null> {
    const r = await this.pool.query(`SELECT ${COLUMNS} FROM events WHERE stream_id = $1 AND idempotency_key = $2`, [
      streamId,
      key,
    ]);
    return r.rowCount ? toRecordedEvent(r.rows[0]) : null;
  }
}

function clampLimit(limit: number | undefined): number {
  if (limit === undefined) return 1000;
  return Math.max(1, Math.min(MAX_READ_LIMIT, Math.floor(limit)));
}

/**
 * A row with its data and metadata parsed. Total: text that is not JSON (only tampering can put
 * it there) becomes null, which the folds report as a fault instead of failing the whole read.
 */
export function toRecordedEvent(row: EventRow | Record<string, unknown>): RecordedEvent {
  const r = row as EventRow;
  return {
    position: r.position,
    streamId: r.stream_id,
    streamVersion: r.stream_version,
    eventId: r.event_id,
    idempotencyKey: r.idempotency_key ?? null,
    type: r.type,
    schemaVersion: r.schema_version,
    data: parseStored(r.data) as JsonValue,
    metadata: (parseStored(r.metadata) ?? {}) as EventMetadata,
    recordedAt: r.recorded_at.toISOString(),
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

function parseStored(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
