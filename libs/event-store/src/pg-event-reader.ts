import type pg from 'pg';
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

const COLUMNS = `position, stream_id, stream_version, event_id::text AS event_id, idempotency_key, type,
  schema_version, data, metadata, recorded_at, prev_hash, hash`;

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
    const r = await this.pool.query(
      `SELECT ${COLUMNS} FROM events
        WHERE stream_id = $1 AND stream_version >= $2 AND ($3::bigint IS NULL OR stream_version <= $3)
        ORDER BY stream_version LIMIT $4`,
      [streamId, o.fromVersion ?? 1, o.toVersion ?? null, clampLimit(o.limit)],
    );
    return r.rows.map(toRecordedEvent);
  }

  async readAll(o: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const r = await this.pool.query(
      `SELECT ${COLUMNS} FROM events
        WHERE position > $1 AND ($2::bigint IS NULL OR position <= $2)
          AND ($3::text[] IS NULL OR type = ANY($3))
          AND ($4::text IS NULL OR starts_with(stream_id, $4))
        ORDER BY position LIMIT $5`,
      [o.after ?? 0, o.toPosition ?? null, o.types ?? null, o.streamPrefix ?? null, clampLimit(o.limit)],
    );
    return r.rows.map(toRecordedEvent);
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

export function toRecordedEvent(row: Record<string, unknown>): RecordedEvent {
  return {
    position: row.position as number,
    streamId: row.stream_id as string,
    streamVersion: row.stream_version as number,
    eventId: row.event_id as string,
    idempotencyKey: (row.idempotency_key as string | null) ?? null,
    type: row.type as string,
    schemaVersion: row.schema_version as number,
    data: JSON.parse(row.data as string) as JsonValue,
    metadata: JSON.parse(row.metadata as string) as EventMetadata,
    recordedAt: (row.recorded_at as Date).toISOString(),
    prevHash: row.prev_hash as string,
    hash: row.hash as string,
  };
}
