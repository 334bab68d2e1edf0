import type pg from 'pg';
import { validateAppendRequest } from './append-validation.js';
import { toCanonicalJson } from './canonical-json.js';
import { EventStoreUnavailableError, isConnectionError } from './errors.js';
import type { AppendOutcome, AppendRequest, CommittedEvent, NewEvent } from './event-record.js';
import { eventHash } from './hash-chain.js';

interface PreparedEvent {
  streamId: string;
  eventId: string;
  idempotencyKey: string | null;
  type: string;
  schemaVersion: number;
  dataJson: string;
  metadataJson: string;
}

interface PreparedRequest {
  index: number;
  request: AppendRequest;
  events: PreparedEvent[];
}

export interface AppenderOptions {
  /** Upper bound for each statement; a stuck transaction fails instead of holding the log head. */
  statementTimeoutMs?: number;
  /** How long to try to learn the outcome of a COMMIT whose reply was lost. */
  resolveTimeoutMs?: number;
}

/**
 * Appends batches of requests to the log in one transaction each (group commit).
 *
 * Writers serialise on the single `log_head` row: positions are assigned consecutively under that
 * lock and become visible in order, so a reader following positions never sees a hole that is
 * filled later (invariant 5), and the hash chain is extended by exactly one writer at a time.
 * Per-request checks (idempotency, expected versions, conditions) run inside the same
 * transaction, so one failed check rejects only its own request, never the batch.
 */
export class PgEventAppender {
  private readonly statementTimeoutMs: number;
  private readonly resolveTimeoutMs: number;

  constructor(
    private readonly pool: pg.Pool,
    options: AppenderOptions = {},
  ) {
    this.statementTimeoutMs = options.statementTimeoutMs ?? 5000;
    this.resolveTimeoutMs = options.resolveTimeoutMs ?? 5000;
  }

  /** Appends one request; see {@link appendBatch}. */
  async append(request: AppendRequest): Promise<AppendOutcome> {
    const [outcome] = await this.appendBatch([request]);
    return outcome;
  }

  /**
   * Appends every request that passes its checks in a single transaction and returns one outcome
   * per request, in order. Throws {@link EventStoreUnavailableError} when Postgres cannot be
   * reached or the transaction fails; then nothing of the batch was committed, unless
   * `outcomeUnknown` is set (COMMIT sent, reply lost, and the outcome could not be learned).
   */
  async appendBatch(requests: AppendRequest[]): Promise<AppendOutcome[]> {
    const outcomes: AppendOutcome[] = new Array(requests.length);
    const prepared: PreparedRequest[] = [];
    requests.forEach((request, index) => {
      const reason = validateAppendRequest(request);
      if (reason) {
        outcomes[index] = { status: 'rejected', reason };
        return;
      }
      try {
        prepared.push({ index, request, events: prepareEvents(request) });
      } catch (err) {
        outcomes[index] = { status: 'rejected', reason: `event is not JSON: ${(err as Error).message}` };
      }
    });
    if (prepared.length === 0) return outcomes;

    try {
      await this.commit(prepared, outcomes);
      return outcomes;
    } catch (err) {
      if (err instanceof EventStoreUnavailableError) throw err;
      if (isConnectionError(err)) {
        throw new EventStoreUnavailableError(`append failed: ${(err as Error).message}`, false, { cause: err });
      }
      if (prepared.length === 1) {
        outcomes[prepared[0].index] = { status: 'rejected', reason: `append failed: ${(err as Error).message}` };
        return outcomes;
      }
      // A statement error that is not about connectivity: isolate the request that caused it so
      // that the others still commit.
      for (const p of prepared) {
        try {
          await this.commit([p], outcomes);
        } catch (single) {
          if (single instanceof EventStoreUnavailableError) throw single;
          outcomes[p.index] = { status: 'rejected', reason: `append failed: ${(single as Error).message}` };
        }
      }
      return outcomes;
    }
  }

  private async commit(prepared: PreparedRequest[], outcomes: AppendOutcome[]): Promise<void> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw new EventStoreUnavailableError(`postgres unavailable: ${(err as Error).message}`, false, { cause: err });
    }
    const backendPid = (client as unknown as { processID?: number }).processID;
    let commitSent = false;
    let broken = false;
    const staged: { index: number; outcome: AppendOutcome }[] = [];
    try {
      const headResults = (await client.query(
        `BEGIN; SET LOCAL statement_timeout = ${this.statementTimeoutMs};
         SELECT position, hash, recorded_at FROM log_head FOR UPDATE`,
      )) as unknown as pg.QueryResult[];
      const headRow = headResults[2].rows[0] as { position: number; hash: string; recorded_at: Date | null };
      let position = headRow.position;
      let prevHash = headRow.hash;
      const recordedAtMs = Math.max(Date.now(), headRow.recorded_at ? headRow.recorded_at.getTime() : 0);
      const recordedAt = new Date(recordedAtMs).toISOString();

      const streamIds = new Set<string>();
      const eventIds: string[] = [];
      const keyStreams: string[] = [];
      const keys: string[] = [];
      for (const p of prepared) {
        for (const a of p.request.appends) streamIds.add(a.streamId);
        for (const c of p.request.conditions ?? []) streamIds.add(c.streamId);
        for (const e of p.events) {
          eventIds.push(e.eventId);
          if (e.idempotencyKey !== null) {
            keyStreams.push(e.streamId);
            keys.push(e.idempotencyKey);
          }
        }
      }
      const state = await client.query(
        `SELECT 'v' AS kind, s.id AS stream_id,
                COALESCE((SELECT e.stream_version FROM events e WHERE e.stream_id = s.id
                          ORDER BY e.stream_version DESC LIMIT 1), 0) AS stream_version,
                NULL::text AS event_id, NULL::bigint AS position, NULL::text AS idempotency_key
           FROM unnest($1::text[]) AS s(id)
         UNION ALL
         SELECT 'k', stream_id, stream_version, event_id::text, position, idempotency_key
           FROM events WHERE event_id = ANY($2::uuid[])
         UNION ALL
         SELECT 'k', e.stream_id, e.stream_version, e.event_id::text, e.position, e.idempotency_key
           FROM events e JOIN unnest($3::text[], $4::text[]) AS k(s, key)
             ON e.stream_id = k.s AND e.idempotency_key = k.key`,
        [[...streamIds], eventIds, keyStreams, keys],
      );
      const versions = new Map<string, number>();
      const byId = new Map<string, CommittedEvent>();
      const byKey = new Map<string, CommittedEvent>();
      for (const r of state.rows) {
        if (r.kind === 'v') {
          versions.set(r.stream_id, r.stream_version);
          continue;
        }
        const c: CommittedEvent = {
          eventId: r.event_id,
          streamId: r.stream_id,
          streamVersion: r.stream_version,
          position: r.position,
        };
        byId.set(c.eventId, c);
        if (r.idempotency_key !== null) byKey.set(keyOf(c.streamId, r.idempotency_key), c);
      }

      const cols = {
        position: [] as number[],
        streamId: [] as string[],
        streamVersion: [] as number[],
        eventId: [] as string[],
        key: [] as (string | null)[],
        type: [] as string[],
        schemaVersion: [] as number[],
        data: [] as string[],
        metadata: [] as string[],
        prevHash: [] as string[],
        hash: [] as string[],
      };

      for (const p of prepared) {
        const matches = p.events.map(
          (e) =>
            byId.get(e.eventId) ??
            (e.idempotencyKey !== null ? byKey.get(keyOf(e.streamId, e.idempotencyKey)) : undefined),
        );
        if (matches.some(Boolean)) {
          // The same request again (a retry): nothing is appended; the original events that carry
          // the request's ids or keys are returned (events without either have nothing to match).
          staged.push({
            index: p.index,
            outcome: {
              status: 'committed',
              duplicate: true,
              events: matches.filter((m): m is CommittedEvent => Boolean(m)),
              recordedAt,
            },
          });
          continue;
        }
        const failed = checkVersions(p.request, versions);
        if (failed) {
          staged.push({ index: p.index, outcome: failed });
          continue;
        }
        const committed: CommittedEvent[] = [];
        for (const e of p.events) {
          position += 1;
          const streamVersion = (versions.get(e.streamId) ?? 0) + 1;
          versions.set(e.streamId, streamVersion);
          const hash = eventHash({
            position,
            streamId: e.streamId,
            streamVersion,
            eventId: e.eventId,
            idempotencyKey: e.idempotencyKey,
            type: e.type,
            schemaVersion: e.schemaVersion,
            dataJson: e.dataJson,
            metadataJson: e.metadataJson,
            recordedAt,
            prevHash,
          });
          cols.position.push(position);
          cols.streamId.push(e.streamId);
          cols.streamVersion.push(streamVersion);
          cols.eventId.push(e.eventId);
          cols.key.push(e.idempotencyKey);
          cols.type.push(e.type);
          cols.schemaVersion.push(e.schemaVersion);
          cols.data.push(e.dataJson);
          cols.metadata.push(e.metadataJson);
          cols.prevHash.push(prevHash);
          cols.hash.push(hash);
          prevHash = hash;
          const c: CommittedEvent = { eventId: e.eventId, streamId: e.streamId, streamVersion, position };
          committed.push(c);
          byId.set(e.eventId, c);
          if (e.idempotencyKey !== null) byKey.set(keyOf(e.streamId, e.idempotencyKey), c);
        }
        staged.push({
          index: p.index,
          outcome: { status: 'committed', duplicate: false, events: committed, recordedAt },
        });
      }

      if (cols.position.length > 0) {
        await client.query(
          `WITH appended AS (
             INSERT INTO events (position, stream_id, stream_version, event_id, idempotency_key, type,
                                 schema_version, data, metadata, recorded_at, prev_hash, hash)
             SELECT t.position, t.stream_id, t.stream_version, t.event_id, t.idempotency_key, t.type,
                    t.schema_version, t.data, t.metadata, $10::timestamptz, t.prev_hash, t.hash
               FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::uuid[], $5::text[], $6::text[],
                           $7::int[], $8::text[], $9::text[], $11::text[], $12::text[])
                 AS t(position, stream_id, stream_version, event_id, idempotency_key, type,
                      schema_version, data, metadata, prev_hash, hash)
             RETURNING 1)
           UPDATE log_head SET position = $13, hash = $14, recorded_at = $10::timestamptz
            WHERE (SELECT count(*) FROM appended) = $15`,
          [
            cols.position,
            cols.streamId,
            cols.streamVersion,
            cols.eventId,
            cols.key,
            cols.type,
            cols.schemaVersion,
            cols.data,
            cols.metadata,
            recordedAt,
            cols.prevHash,
            cols.hash,
            position,
            prevHash,
            cols.position.length,
          ],
        );
      }
      commitSent = true;
      await client.query('COMMIT');
      for (const s of staged) outcomes[s.index] = s.outcome;
    } catch (err) {
      broken = isConnectionError(err);
      if (!commitSent && !broken) await client.query('ROLLBACK').catch(() => (broken = true));
      if (commitSent && broken) {
        const committed = await this.resolveUncertainCommit(backendPid, staged);
        if (committed === undefined) {
          throw new EventStoreUnavailableError('commit outcome unknown: postgres connection lost during COMMIT', true, {
            cause: err,
          });
        }
        if (committed) {
          for (const s of staged) outcomes[s.index] = s.outcome;
          return;
        }
      }
      if (broken || (err as { code?: string }).code === '57014') {
        throw new EventStoreUnavailableError(`append failed: ${(err as Error).message}`, false, { cause: err });
      }
      throw err;
    } finally {
      client.release(broken ? true : undefined);
    }
  }

  /**
   * After a lost COMMIT reply: waits until the old backend is gone (so it cannot still commit),
   * then looks for the first new event. true: committed; false: not committed; undefined: unknown.
   */
  private async resolveUncertainCommit(
    backendPid: number | undefined,
    staged: { outcome: AppendOutcome }[],
  ): Promise<boolean | undefined> {
    const probe = staged.find((s) => s.outcome.status === 'committed' && !s.outcome.duplicate);
    if (!probe || probe.outcome.status !== 'committed') return true; // nothing new was written
    const eventId = probe.outcome.events[0].eventId;
    const deadline = Date.now() + this.resolveTimeoutMs;
    while (Date.now() < deadline) {
      try {
        const alive = backendPid
          ? await this.pool.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [backendPid])
          : { rowCount: 0 };
        if (!alive.rowCount) {
          const found = await this.pool.query('SELECT 1 FROM events WHERE event_id = $1', [eventId]);
          return (found.rowCount ?? 0) > 0;
        }
      } catch {
        // still unreachable; keep trying until the deadline
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    return undefined;
  }
}

function prepareEvents(request: AppendRequest): PreparedEvent[] {
  const out: PreparedEvent[] = [];
  for (const a of request.appends) {
    for (const e of a.events as NewEvent[]) {
      out.push({
        streamId: a.streamId,
        eventId: e.eventId.toLowerCase(),
        idempotencyKey: e.idempotencyKey ?? null,
        type: e.type,
        schemaVersion: e.schemaVersion,
        dataJson: toCanonicalJson(e.data),
        metadataJson: toCanonicalJson(e.metadata ?? {}),
      });
    }
  }
  return out;
}

function checkVersions(request: AppendRequest, versions: Map<string, number>): AppendOutcome | null {
  for (const c of request.conditions ?? []) {
    const actual = versions.get(c.streamId) ?? 0;
    if (actual !== c.version) {
      return { status: 'condition_failed', streamId: c.streamId, expectedVersion: c.version, actualVersion: actual };
    }
  }
  for (const a of request.appends) {
    if (a.expectedVersion === 'any') continue;
    const actual = versions.get(a.streamId) ?? 0;
    if (actual !== a.expectedVersion) {
      return { status: 'conflict', streamId: a.streamId, expectedVersion: a.expectedVersion, actualVersion: actual };
    }
  }
  return null;
}

function keyOf(streamId: string, key: string): string {
  return `${streamId}\u0000${key}`;
}
