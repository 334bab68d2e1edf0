import type pg from 'pg';
import { validateAppendRequest } from './append-validation.js';
import { ANY_KNOWN_SQL, FAST_APPEND_SQL, HEAD_CATCH_UP_SQL, RS, STREAM_VERSIONS_SQL } from './append-sql.js';
import { toCanonicalJson } from '#contracts';
import { EventStoreUnavailableError, isConnectionError } from './errors.js';
import type { AppendOutcome, AppendRequest, CommittedEvent, NewEvent } from './event-record.js';
import { GENESIS_HASH, eventHash } from './hash-chain.js';
import { StreamVersionLru } from './stream-version-lru.js';

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
  /** Epoch ms after which no statement that could commit it may start. */
  deadline: number;
  /** Epoch ms its events must be recorded after (recordedAfter), or 0. */
  afterMs: number;
}

/** The log head as this writer last saw it. */
interface Head {
  position: number;
  hash: string;
  recordedAtMs: number;
}

/** What the writer decided for a batch against its cached head and versions. */
interface Plan {
  staged: { index: number; outcome: AppendOutcome }[];
  /** Streams written by the batch and their versions after it. */
  written: Map<string, number>;
  count: number;
  streamIds: string[];
  versions: number[];
  eventIds: string[];
  keys: (string | null)[];
  anyKey: boolean;
  types: string[];
  schemaVersions: number[];
  data: string[];
  metadata: string[];
  prevHashes: string[];
  hashes: string[];
  newHead: Head;
  /** Requests refused by a version check: their verdict stands only if none of them is a retry. */
  refused: PreparedRequest[];
}

/** Per request: its outcome, or why nothing of it was recorded (outcomeUnknown: maybe it was). */
export type AppendResult = AppendOutcome | EventStoreUnavailableError;

export interface AppenderOptions {
  /** Upper bound for each statement of the locked (slow) path, set per transaction. */
  statementTimeoutMs?: number;
  /** How long to try to learn the outcome of a statement or COMMIT whose reply was lost. */
  resolveTimeoutMs?: number;
  /** Stream versions kept in memory (least recently used go first). */
  streamCacheSize?: number;
  /** After another writer moved the head by at most this many events, catch up instead of forgetting. */
  maxCatchUpEvents?: number;
}

/** Optimistic attempts per batch before it takes the locked path (which always makes progress). */
const FAST_ATTEMPTS = 2;

/**
 * Appends batches of requests to the log, one group commit each.
 *
 * Fast path (the usual one): the writer caches the log head and the versions of the streams it
 * has seen. It decides every request in memory (expected versions, conditions, duplicates within
 * the batch), computes positions and hashes from the cached head, and sends one statement in
 * autocommit (FAST_APPEND_SQL) that moves the head only if it is still where the writer saw it and
 * inserts the events only then. If the head is where this writer left it, nobody else appended,
 * so the cached versions are exact; if it moved, the statement writes nothing, the writer catches
 * up from the log and tries again. Positions are still assigned and made visible under the head's
 * row lock, in order and densely (invariant 5), and the chain is extended by one writer at a time.
 *
 * Slow path (retries and anything unusual): a known event id or idempotency key makes the fast
 * statement fail on a unique constraint; then the batch runs the full checks in a transaction
 * that holds the head FOR UPDATE, which returns the original positions for duplicates. It is
 * also taken after repeated head moves (several writers), and to isolate a request that makes a
 * statement fail, so one bad request never sinks the others.
 *
 * The fast path sets no statement_timeout of its own: give the appender a pool whose sessions have
 * one (createPgPool's statementTimeoutMs), as the recorder does.
 */
export class PgEventAppender {
  private readonly statementTimeoutMs: number;
  private readonly resolveTimeoutMs: number;
  private readonly maxCatchUpEvents: number;
  private head: Head | null = null;
  private readonly versions: StreamVersionLru;

  constructor(
    private readonly pool: pg.Pool,
    options: AppenderOptions = {},
  ) {
    this.statementTimeoutMs = options.statementTimeoutMs ?? 5000;
    this.resolveTimeoutMs = options.resolveTimeoutMs ?? 5000;
    this.maxCatchUpEvents = options.maxCatchUpEvents ?? 10_000;
    this.versions = new StreamVersionLru(options.streamCacheSize ?? 100_000);
  }

  /** Appends one request; see {@link appendBatch}. */
  async append(request: AppendRequest): Promise<AppendOutcome> {
    const [outcome] = await this.appendBatch([request]);
    return outcome;
  }

  /**
   * Appends every request that passes its checks and returns one outcome per request, in order.
   * Throws {@link EventStoreUnavailableError} when Postgres cannot be reached or the append fails;
   * then nothing of the batch was committed, unless `outcomeUnknown` is set (the reply to the
   * committing statement was lost and its outcome could not be learned).
   */
  async appendBatch(requests: AppendRequest[]): Promise<AppendOutcome[]> {
    const results = await this.appendBatchSettled(requests);
    for (const r of results) if (r instanceof EventStoreUnavailableError) throw r;
    return results as AppendOutcome[];
  }

  /**
   * Like {@link appendBatch}, but never throws for Postgres being unavailable: each request gets
   * its outcome or the error that kept it out of the log (requests committed before the failure
   * keep their outcomes). A request whose deadline (epoch ms, same index) has passed before a
   * statement that could commit it starts gets an error instead (nothing recorded).
   */
  async appendBatchSettled(requests: AppendRequest[], deadlines?: (number | undefined)[]): Promise<AppendResult[]> {
    const results: AppendResult[] = new Array(requests.length);
    let pending: PreparedRequest[] = [];
    requests.forEach((request, index) => {
      const reason = validateAppendRequest(request);
      if (reason) {
        results[index] = { status: 'rejected', reason };
        return;
      }
      try {
        pending.push({
          index,
          request,
          events: prepareEvents(request),
          deadline: deadlines?.[index] ?? Infinity,
          afterMs: request.recordedAfter ? Date.parse(request.recordedAfter) : 0,
        });
      } catch (err) {
        results[index] = { status: 'rejected', reason: `event is not JSON: ${(err as Error).message}` };
      }
    });

    try {
      let slow = false;
      for (let attempt = 0; attempt < FAST_ATTEMPTS && !slow; attempt++) {
        pending = expire(pending, results);
        if (pending.length === 0) return results;
        const r = await this.tryFast(pending, results);
        if (r === 'done') return results;
        slow = r === 'slow';
      }
      pending = expire(pending, results);
      if (pending.length > 0) await this.commitIsolating(pending, results);
    } catch (err) {
      const e =
        err instanceof EventStoreUnavailableError
          ? err
          : new EventStoreUnavailableError(`append failed: ${(err as Error).message}`, false, { cause: err });
      for (const p of pending) if (results[p.index] === undefined) results[p.index] = e;
    }
    return results;
  }

  /** Forgets the cached head and versions (the next batch reads them again). */
  invalidate(): void {
    this.head = null;
    this.versions.clear();
  }

  // ---------------------------------------------------------------- fast path

  /**
   * One optimistic attempt. 'done': every request has its outcome; 'moved': another writer moved
   * the head (the cache has caught up; try again); 'slow': the batch needs the locked path.
   */
  private async tryFast(pending: PreparedRequest[], results: AppendResult[]): Promise<'done' | 'moved' | 'slow'> {
    const client = await this.connect();
    let broken = false;
    try {
      if (!this.head) await this.catchUp(client);
      const head = this.head!;
      const known = await this.knownVersions(client, pending);
      const plan = planBatch(pending, known, head);

      if (plan.refused.length > 0 && (await anyKnown(client, plan.refused))) return 'slow';
      if (plan.count === 0) {
        // nothing to write: the verdicts hold if the head has not moved since the cache was exact
        if (await this.catchUp(client)) return 'moved';
        for (const s of plan.staged) results[s.index] = s.outcome;
        return 'done';
      }

      let inserted: number;
      try {
        const r = await client.query({
          name: FAST_APPEND_SQL.name,
          text: FAST_APPEND_SQL.text,
          values: [
            plan.newHead.position,
            plan.newHead.hash,
            new Date(plan.newHead.recordedAtMs).toISOString(),
            head.position,
            head.hash,
            plan.streamIds.join(RS),
            plan.versions.join(','),
            plan.eventIds.join(','),
            plan.anyKey ? plan.keys : [],
            plan.types.join(','),
            plan.schemaVersions.join(','),
            plan.data.join(RS),
            plan.metadata.join(RS),
            plan.prevHashes.join(','),
            plan.hashes.join(','),
          ],
        });
        inserted = r.rowCount ?? 0;
      } catch (err) {
        if (isConnectionError(err)) {
          broken = true;
          this.invalidate();
          // the statement may have committed: learn whether it did before answering anyone
          const committed = await this.resolveUncertain(client, { position: head.position + 1, hash: plan.hashes[0] });
          if (committed === undefined) {
            throw new EventStoreUnavailableError(
              'append outcome unknown: postgres connection lost during the append',
              true,
              {
                cause: err,
              },
            );
          }
          if (!committed) {
            throw new EventStoreUnavailableError(`append failed: ${(err as Error).message}`, false, { cause: err });
          }
          for (const s of plan.staged) results[s.index] = s.outcome;
          return 'done';
        }
        // An error reply: the statement was rolled back, nothing was written and the cache is as
        // exact as it was.
        if ((err as { code?: string }).code === '57014') {
          throw new EventStoreUnavailableError(`append failed: ${(err as Error).message}`, false, { cause: err });
        }
        // 23505: a known event id or key (a retry); anything else: a request the statement chokes on
        return 'slow';
      }

      if (inserted === 0) {
        // another writer moved the head; nothing was written
        await this.catchUp(client);
        return 'moved';
      }
      if (inserted !== plan.count) {
        this.invalidate();
        throw new Error(`append inserted ${inserted} events of ${plan.count}`);
      }
      for (const [streamId, version] of plan.written) this.versions.set(streamId, version);
      this.head = plan.newHead;
      for (const s of plan.staged) results[s.index] = s.outcome;
      return 'done';
    } catch (err) {
      if (err instanceof EventStoreUnavailableError) throw err;
      this.invalidate();
      if (isConnectionError(err)) {
        broken = true;
        throw new EventStoreUnavailableError(`append failed: ${(err as Error).message}`, false, { cause: err });
      }
      // a failed read (say a prepared statement after a schema change): start afresh, locked
      return 'slow';
    } finally {
      client.release(broken ? true : undefined);
    }
  }

  /**
   * Reads the head; when a cached head exists, also catches the version cache up with what other
   * writers appended since (or clears it if that is too much). Returns whether the head moved.
   */
  private async catchUp(client: pg.PoolClient): Promise<boolean> {
    const cached = this.head;
    const r = await client.query({
      name: HEAD_CATCH_UP_SQL.name,
      text: HEAD_CATCH_UP_SQL.text,
      values: [cached ? cached.position : -1, this.maxCatchUpEvents],
    });
    const first = r.rows[0] as { position: number; hash: string; recorded_at: Date | null; hash_at: string | null };
    const head: Head = {
      position: first.position,
      hash: first.hash,
      recordedAtMs: first.recorded_at ? first.recorded_at.getTime() : 0,
    };
    this.head = head;
    if (cached && cached.position === head.position && cached.hash === head.hash) return false;
    // the cache is of this log only if the event it was exact at is still there (a restored or
    // replaced database is not caught up from, but forgotten)
    const sameHistory =
      cached !== null && (first.hash_at ?? (cached.position === 0 ? GENESIS_HASH : null)) === cached.hash;
    if (!sameHistory || head.position - cached.position > this.maxCatchUpEvents) {
      this.versions.clear();
      return true;
    }
    for (const row of r.rows as { stream_id: string | null; version: number | null }[]) {
      if (row.stream_id !== null && row.version !== null) this.versions.set(row.stream_id, row.version);
    }
    return true;
  }

  /** Versions of every stream the batch touches: from the cache, the others read once. */
  private async knownVersions(client: pg.PoolClient, pending: PreparedRequest[]): Promise<Map<string, number>> {
    const known = new Map<string, number>();
    const missing = new Set<string>();
    const need = (streamId: string) => {
      if (known.has(streamId)) return;
      const v = this.versions.get(streamId);
      if (v === undefined) missing.add(streamId);
      else known.set(streamId, v);
    };
    for (const p of pending) {
      for (const a of p.request.appends) need(a.streamId);
      for (const c of p.request.conditions ?? []) need(c.streamId);
    }
    if (missing.size > 0) {
      const r = await client.query({
        name: STREAM_VERSIONS_SQL.name,
        text: STREAM_VERSIONS_SQL.text,
        values: [[...missing].join(RS)],
      });
      for (const row of r.rows as { stream_id: string; version: number }[]) {
        known.set(row.stream_id, row.version);
        this.versions.set(row.stream_id, row.version);
      }
    }
    return known;
  }

  // ---------------------------------------------------------------- slow (locked) path

  /** The locked path; a request that makes it fail is isolated so that the others still commit. */
  private async commitIsolating(pending: PreparedRequest[], results: AppendResult[]): Promise<void> {
    try {
      await this.commitLocked(pending, results);
      return;
    } catch (err) {
      if (err instanceof EventStoreUnavailableError) throw err;
      if (isConnectionError(err)) {
        throw new EventStoreUnavailableError(`append failed: ${(err as Error).message}`, false, { cause: err });
      }
      if (pending.length === 1) {
        results[pending[0].index] = { status: 'rejected', reason: `append failed: ${(err as Error).message}` };
        return;
      }
    }
    for (const p of expire(pending, results)) {
      try {
        await this.commitLocked([p], results);
      } catch (single) {
        if (single instanceof EventStoreUnavailableError) throw single;
        if (isConnectionError(single)) {
          throw new EventStoreUnavailableError(`append failed: ${(single as Error).message}`, false, { cause: single });
        }
        results[p.index] = { status: 'rejected', reason: `append failed: ${(single as Error).message}` };
      }
    }
  }

  /**
   * All checks inside one transaction holding the head FOR UPDATE: ids and keys already in the
   * log (duplicates, answered with the original positions), expected versions and conditions.
   */
  private async commitLocked(prepared: PreparedRequest[], results: AppendResult[]): Promise<void> {
    const client = await this.connect();
    let commitSent = false;
    let broken = false;
    const staged: { index: number; outcome: AppendOutcome }[] = [];
    let probe: { position: number; hash: string } | null = null;
    try {
      const headResults = (await client.query(
        `BEGIN; SET LOCAL statement_timeout = ${this.statementTimeoutMs};
         SELECT position, hash, recorded_at FROM log_head FOR UPDATE`,
      )) as unknown as pg.QueryResult[];
      const headRow = headResults[2].rows[0] as { position: number; hash: string; recorded_at: Date | null };
      const lockedHead: Head = {
        position: headRow.position,
        hash: headRow.hash,
        recordedAtMs: headRow.recorded_at ? headRow.recorded_at.getTime() : 0,
      };
      let position = lockedHead.position;
      let prevHash = lockedHead.hash;
      const recordedAtMs = recordingTime(lockedHead, prepared);
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
        probe = { position: cols.position[0], hash: cols.hash[0] };
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
      for (const s of staged) results[s.index] = s.outcome;
      // The versions read under the lock are exact at the locked head, and so is the rest of the
      // cache if that head is the one it was exact at.
      const cached = this.head;
      if (!cached || cached.position !== lockedHead.position || cached.hash !== lockedHead.hash) this.versions.clear();
      for (const [streamId, version] of versions) this.versions.set(streamId, version);
      this.head = cols.position.length > 0 ? { position, hash: prevHash, recordedAtMs } : lockedHead;
    } catch (err) {
      this.invalidate();
      broken = isConnectionError(err);
      if (!commitSent && !broken) await client.query('ROLLBACK').catch(() => (broken = true));
      if (commitSent && broken) {
        const committed = probe ? await this.resolveUncertain(client, probe) : false;
        if (committed === undefined) {
          throw new EventStoreUnavailableError('commit outcome unknown: postgres connection lost during COMMIT', true, {
            cause: err,
          });
        }
        if (committed || !probe) {
          // committed, or nothing new was written (only duplicates and refusals)
          for (const s of staged) results[s.index] = s.outcome;
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

  // ---------------------------------------------------------------- shared

  private async connect(): Promise<pg.PoolClient> {
    try {
      return await this.pool.connect();
    } catch (err) {
      throw new EventStoreUnavailableError(`postgres unavailable: ${(err as Error).message}`, false, { cause: err });
    }
  }

  /**
   * After a lost reply to a statement that may have committed: waits until the old backend is
   * gone (so it cannot still commit), then looks for the first event it would have written, at its
   * position with its hash. true: committed; false: not committed; undefined: unknown.
   */
  private async resolveUncertain(
    client: pg.PoolClient,
    probe: { position: number; hash: string },
  ): Promise<boolean | undefined> {
    const backendPid = (client as unknown as { processID?: number }).processID;
    const deadline = Date.now() + this.resolveTimeoutMs;
    while (Date.now() < deadline) {
      try {
        const alive = backendPid
          ? await this.pool.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [backendPid])
          : { rowCount: 0 };
        if (!alive.rowCount) {
          const found = await this.pool.query('SELECT 1 FROM events WHERE position = $1 AND hash = $2', [
            probe.position,
            probe.hash,
          ]);
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

/**
 * Decides a batch against versions exact at `head`: duplicates within the batch, expected
 * versions and conditions in arrival order; positions, versions and hashes of the new events.
 */
function planBatch(pending: PreparedRequest[], known: Map<string, number>, head: Head): Plan {
  const recordedAtMs = recordingTime(head, pending);
  const recordedAt = new Date(recordedAtMs).toISOString();
  const plan: Plan = {
    staged: [],
    written: new Map(),
    count: 0,
    streamIds: [],
    versions: [],
    eventIds: [],
    keys: [],
    anyKey: false,
    types: [],
    schemaVersions: [],
    data: [],
    metadata: [],
    prevHashes: [],
    hashes: [],
    newHead: head,
    refused: [],
  };
  const byId = new Map<string, CommittedEvent>();
  const byKey = new Map<string, CommittedEvent>();
  let position = head.position;
  let prevHash = head.hash;
  for (const p of pending) {
    if (byId.size > 0) {
      // the same request twice in one batch (a retry that overtook its original): the second is
      // a duplicate of the first. Duplicates of what is already in the log fail the statement.
      const matches: CommittedEvent[] = [];
      for (const e of p.events) {
        const m =
          byId.get(e.eventId) ??
          (e.idempotencyKey !== null ? byKey.get(keyOf(e.streamId, e.idempotencyKey)) : undefined);
        if (m) matches.push(m);
      }
      if (matches.length > 0) {
        plan.staged.push({
          index: p.index,
          outcome: { status: 'committed', duplicate: true, events: matches, recordedAt },
        });
        continue;
      }
    }
    const failed = checkVersions(p.request, known);
    if (failed) {
      plan.staged.push({ index: p.index, outcome: failed });
      plan.refused.push(p);
      continue;
    }
    const committed: CommittedEvent[] = [];
    for (const e of p.events) {
      position += 1;
      const streamVersion = (known.get(e.streamId) ?? 0) + 1;
      known.set(e.streamId, streamVersion);
      plan.written.set(e.streamId, streamVersion);
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
      plan.streamIds.push(e.streamId);
      plan.versions.push(streamVersion);
      plan.eventIds.push(e.eventId);
      plan.keys.push(e.idempotencyKey);
      if (e.idempotencyKey !== null) plan.anyKey = true;
      plan.types.push(e.type);
      plan.schemaVersions.push(e.schemaVersion);
      plan.data.push(e.dataJson);
      plan.metadata.push(e.metadataJson);
      plan.prevHashes.push(prevHash);
      plan.hashes.push(hash);
      prevHash = hash;
      const c: CommittedEvent = { eventId: e.eventId, streamId: e.streamId, streamVersion, position };
      committed.push(c);
      byId.set(e.eventId, c);
      if (e.idempotencyKey !== null) byKey.set(keyOf(e.streamId, e.idempotencyKey), c);
    }
    plan.staged.push({
      index: p.index,
      outcome: { status: 'committed', duplicate: false, events: committed, recordedAt },
    });
  }
  plan.count = plan.hashes.length;
  if (plan.count > 0) plan.newHead = { position, hash: prevHash, recordedAtMs };
  return plan;
}

/** Most a request's recordedAfter may move the clock ahead of this writer's. */
const MAX_RECORDED_AFTER_LEAD_MS = 60_000;

/**
 * The time a batch is recorded at: now, never before the head's (so times never go backwards in
 * a partition), and after every request's recordedAfter (capped at a minute ahead).
 */
function recordingTime(head: Head, requests: PreparedRequest[]): number {
  const now = Date.now();
  let t = Math.max(now, head.recordedAtMs);
  for (const r of requests)
    if (r.afterMs > 0) t = Math.max(t, Math.min(r.afterMs + 1, now + MAX_RECORDED_AFTER_LEAD_MS));
  return t;
}

/** Whether any event id or idempotency key of these requests is already in the log (a retry). */
async function anyKnown(client: pg.PoolClient, requests: PreparedRequest[]): Promise<boolean> {
  const ids: string[] = [];
  const keyStreams: string[] = [];
  const keys: string[] = [];
  for (const p of requests) {
    for (const e of p.events) {
      ids.push(e.eventId);
      if (e.idempotencyKey !== null) {
        keyStreams.push(e.streamId);
        keys.push(e.idempotencyKey);
      }
    }
  }
  const r = await client.query(ANY_KNOWN_SQL, [ids, keyStreams, keys]);
  return (r.rowCount ?? 0) > 0;
}

/** Requests whose deadline has passed get an error (nothing recorded); the others go on. */
function expire(pending: PreparedRequest[], results: AppendResult[]): PreparedRequest[] {
  const now = Date.now();
  if (pending.every((p) => p.deadline >= now)) return pending;
  const left: PreparedRequest[] = [];
  for (const p of pending) {
    if (p.deadline >= now) left.push(p);
    else
      results[p.index] = new EventStoreUnavailableError('append deadline passed before it could commit; not recorded');
  }
  return left;
}

/** Canonical texts computed before the append (see {@link rememberCanonicalText}). */
const canonicalTexts = new WeakMap<NewEvent, { data: string; metadata: string }>();

/**
 * Records the canonical JSON of an event's data and metadata, computed by a caller that needed it
 * anyway (the recorder measures events by it), so that the append does not compute it again. The
 * event must not change afterwards.
 */
export function rememberCanonicalText(event: NewEvent, dataJson: string, metadataJson: string): void {
  canonicalTexts.set(event, { data: dataJson, metadata: metadataJson });
}

function prepareEvents(request: AppendRequest): PreparedEvent[] {
  const out: PreparedEvent[] = [];
  for (const a of request.appends) {
    for (const e of a.events as NewEvent[]) {
      const known = canonicalTexts.get(e);
      out.push({
        streamId: a.streamId,
        eventId: e.eventId.toLowerCase(),
        idempotencyKey: e.idempotencyKey ?? null,
        type: e.type,
        schemaVersion: e.schemaVersion,
        dataJson: known ? known.data : toCanonicalJson(e.data),
        metadataJson: known ? known.metadata : toCanonicalJson(e.metadata ?? {}),
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
