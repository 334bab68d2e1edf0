import type pg from 'pg';
import { PartitionedLog } from './partitioned-log.js';
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
  /** The partition to read (default 0). */
  partition?: number;
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

/**
 * Reads committed events, from whichever partition holds them. Every read of one partition sees a
 * prefix of it (positions are dense and ordered); a stream's reads go to its partition.
 */
export class PgEventReader {
  private readonly log: PartitionedLog;

  constructor(log: PartitionedLog | pg.Pool) {
    this.log = log instanceof PartitionedLog ? log : PartitionedLog.single(log);
  }

  get partitions(): number {
    return this.log.partitions;
  }

  async head(partition = 0): Promise<LogHead> {
    const r = await this.log.pool(partition).query('SELECT position, hash, recorded_at FROM log_head');
    const row = r.rows[0] as { position: number; hash: string; recorded_at: Date | null };
    return { partition, position: row.position, hash: row.hash, recordedAt: row.recorded_at?.toISOString() ?? null };
  }

  /** Every partition's head, 0 first. */
  heads(): Promise<LogHead[]> {
    return Promise.all(this.log.all().map((p) => this.head(p)));
  }

  async streamVersion(streamId: string): Promise<number> {
    const r = await this.log
      .poolOf(streamId)
      .query('SELECT stream_version FROM events WHERE stream_id = $1 ORDER BY stream_version DESC LIMIT 1', [streamId]);
    return r.rowCount ? (r.rows[0].stream_version as number) : 0;
  }

  async readStream(streamId: string, o: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const p = this.log.partitionOf(streamId);
    return (await this.readStreamRows(streamId, o)).map((r) => toRecordedEvent(r, p));
  }

  /** The stream's rows as stored (data and metadata as text). */
  async readStreamRows(streamId: string, o: ReadStreamOptions = {}): Promise<EventRow[]> {
    const r = await this.log.poolOf(streamId).query<EventRow>(
      `SELECT ${COLUMNS} FROM events
        WHERE stream_id = $1 AND stream_version >= $2 AND ($3::bigint IS NULL OR stream_version <= $3)
        ORDER BY stream_version LIMIT $4`,
      [streamId, o.fromVersion ?? 1, o.toVersion ?? null, clampLimit(o.limit)],
    );
    return r.rows;
  }

  async readAll(o: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const p = o.partition ?? 0;
    return (await this.readAllRows(o)).map((r) => toRecordedEvent(r, p));
  }

  /** Rows of one partition by position, as stored (data and metadata as text). */
  async readAllRows(o: ReadAllOptions = {}): Promise<EventRow[]> {
    const r = await this.log.pool(o.partition ?? 0).query<EventRow>(
      `SELECT ${COLUMNS} FROM events
        WHERE position > $1 AND ($2::bigint IS NULL OR position <= $2)
          AND ($3::text[] IS NULL OR type = ANY($3))
          AND ($4::text IS NULL OR starts_with(stream_id, $4))
        ORDER BY position LIMIT $5`,
      [o.after ?? 0, o.toPosition ?? null, o.types ?? null, o.streamPrefix ?? null, clampLimit(o.limit)],
    );
    return r.rows;
  }

  /** Events by id, whatever their partitions. */
  async findByEventIds(eventIds: string[]): Promise<RecordedEvent[]> {
    if (eventIds.length === 0) return [];
    const pages = await Promise.all(
      this.log.all().map(async (p) => {
        const r = await this.log
          .pool(p)
          .query<EventRow>(`SELECT ${COLUMNS} FROM events WHERE event_id = ANY($1::uuid[]) ORDER BY position`, [
            eventIds,
          ]);
        return r.rows.map((row) => toRecordedEvent(row, p));
      }),
    );
    return pages.flat();
  }

  async findByIdempotencyKey(streamId: string, key: string): Promise<RecordedEvent | null> {
    const r = await this.log
      .poolOf(streamId)
      .query<EventRow>(`SELECT ${COLUMNS} FROM events WHERE stream_id = $1 AND idempotency_key = $2`, [streamId, key]);
    return r.rowCount ? toRecordedEvent(r.rows[0], this.log.partitionOf(streamId)) : null;
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
export function toRecordedEvent(row: EventRow | Record<string, unknown>, partition = 0): RecordedEvent {
  const r = row as EventRow;
  return {
    partition,
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
