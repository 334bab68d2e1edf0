import type pg from 'pg';
import { EVENT_COLUMNS, type EventRow } from './event-json.js';
import type { CommittedEvent, RecordedEvent } from './event-record.js';
import { PartitionedLog } from './partitioned-log.js';
import { toRecordedEvent } from './pg-event-reader.js';

/** Counts of one range of a partition (see {@link LogQueries.tally}). */
export interface LogTally {
  syscalls: number;
  policyChecks: number;
  violations: number;
  shadow: number;
  crashes: number;
  created: number;
  terminated: number;
}

/**
 * The queries services ask of the log beyond reading streams, each across every partition: the
 * SQL stays in the event store, and the services see plain results.
 */
export class LogQueries {
  private readonly log: PartitionedLog;

  constructor(log: PartitionedLog | pg.Pool) {
    this.log = log instanceof PartitionedLog ? log : PartitionedLog.single(log);
  }

  get partitions(): number {
    return this.log.partitions;
  }

  /**
   * Committed events with these ids, read after every transaction still holding a partition's head
   * has finished (FOR SHARE waits for it): what a writer that lost its reply can trust.
   */
  async committedAfterWriters(eventIds: string[]): Promise<CommittedEvent[]> {
    if (eventIds.length === 0) return [];
    const pages = await Promise.all(
      this.log.all().map(async (p) => {
        const client = await this.log.pool(p).connect();
        let broken = false;
        try {
          await client.query('BEGIN');
          await client.query('SELECT 1 FROM log_head FOR SHARE');
          const r = await client.query<{
            event_id: string;
            stream_id: string;
            stream_version: number;
            position: number;
          }>(
            'SELECT event_id::text AS event_id, stream_id, stream_version, position FROM events WHERE event_id = ANY($1::uuid[])',
            [eventIds],
          );
          await client.query('COMMIT');
          return r.rows.map((row): CommittedEvent => ({
            eventId: row.event_id,
            streamId: row.stream_id,
            streamVersion: row.stream_version,
            position: row.position,
            ...(this.log.partitions > 1 ? { partition: p } : {}),
          }));
        } catch (err) {
          broken = true;
          await client.query('ROLLBACK').catch(() => undefined);
          throw err;
        } finally {
          client.release(broken);
        }
      }),
    );
    return pages.flat();
  }

  /** The data (as stored text) of every event of one type, partition by partition, each in log order. */
  async dataOfType(type: string): Promise<string[]> {
    const pages = await Promise.all(
      this.log
        .all()
        .map((p) =>
          this.log.pool(p).query<{ data: string }>('SELECT data FROM events WHERE type = $1 ORDER BY position', [type]),
        ),
    );
    return pages.flatMap((r) => r.rows.map((row) => row.data));
  }

  /**
   * The first event of each stream that has one of this type, by stream id, after `afterStream`:
   * one page of at most `limit`, merged from every partition.
   */
  async streamsWithType(
    type: string,
    afterStream: string | null,
    limit: number,
  ): Promise<{ streamId: string; data: string }[]> {
    const pages = await Promise.all(
      this.log.all().map((p) =>
        this.log.pool(p).query<{ stream_id: string; data: string }>(
          `SELECT stream_id, data FROM events WHERE type = $1 AND ($2::text IS NULL OR stream_id > $2)
            ORDER BY stream_id LIMIT $3`,
          [type, afterStream, limit],
        ),
      ),
    );
    return pages
      .flatMap((r) => r.rows.map((row) => ({ streamId: row.stream_id, data: row.data })))
      .sort((a, b) => (a.streamId < b.streamId ? -1 : a.streamId > b.streamId ? 1 : 0))
      .slice(0, limit);
  }

  /** The head position of a partition. */
  async headPosition(partition: number): Promise<number> {
    const r = await this.log.pool(partition).query<{ position: number }>('SELECT position FROM log_head');
    return r.rows[0].position;
  }

  /** The kernel's counters over positions (after, upTo] of one partition. */
  async tally(partition: number, after: number, upTo: number): Promise<LogTally> {
    const r = await this.log.pool(partition).query<Record<string, string>>(
      `WITH e AS (SELECT type, event_json(data) AS d FROM events WHERE position > $1 AND position <= $2)
       SELECT
         count(*) FILTER (WHERE type = 'SyscallRecorded') AS syscalls,
         count(*) FILTER (WHERE type = 'SyscallRecorded' AND d->'decision'->>'mode' <> 'skipped') AS policy_checks,
         count(*) FILTER (WHERE type = 'SyscallRecorded' AND d->'decision'->>'mode' <> 'skipped'
                            AND (d->'decision'->>'allowed')::boolean = false) AS violations,
         count(*) FILTER (WHERE type = 'SyscallRecorded' AND (d->'decision'->>'shadow')::boolean) AS shadow,
         count(*) FILTER (WHERE type = 'SyscallRecorded' AND d->'result'->>'errorCode' = '-4') AS crashes,
         count(*) FILTER (WHERE type = 'AgentCreated') AS created,
         count(*) FILTER (WHERE (type = 'SignalDelivered' AND d->>'transition' = 'terminated')
                            OR type = 'AgentDestroyed'
                            OR (type = 'SyscallRecorded' AND d->'kernel'->>'op' = 'exit'
                                AND (d->'result'->>'success')::boolean)) AS terminated
       FROM e`,
      [after, upTo],
    );
    const row = r.rows[0];
    return {
      syscalls: Number(row.syscalls),
      policyChecks: Number(row.policy_checks),
      violations: Number(row.violations),
      shadow: Number(row.shadow),
      crashes: Number(row.crashes),
      created: Number(row.created),
      terminated: Number(row.terminated),
    };
  }

  /** SignalSent events of a partition after a position, in order (the outbox; a partial index finds them). */
  async signalsSent(partition: number, after: number, limit: number): Promise<RecordedEvent[]> {
    const r = await this.log
      .pool(partition)
      .query<EventRow>(
        `SELECT ${EVENT_COLUMNS} FROM events WHERE type = 'SignalSent' AND position > $1 ORDER BY position LIMIT $2`,
        [after, limit],
      );
    return r.rows.map((row) => toRecordedEvent(row, partition));
  }

  /** Where a relay resumes in a partition (0: from the start). */
  async relayCursor(partition: number, name: string): Promise<number> {
    const r = await this.log
      .pool(partition)
      .query<{ position: number }>('SELECT position FROM relay_cursors WHERE name = $1', [name]);
    return r.rows[0]?.position ?? 0;
  }

  /** Moves a relay's cursor forward (never back: several relays may race). */
  async advanceRelayCursor(partition: number, name: string, position: number): Promise<void> {
    await this.log.pool(partition).query(
      `INSERT INTO relay_cursors (name, position) VALUES ($1, $2)
       ON CONFLICT (name) DO UPDATE SET position = GREATEST(relay_cursors.position, EXCLUDED.position)`,
      [name, position],
    );
  }
}
