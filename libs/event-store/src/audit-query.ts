import type pg from 'pg';
import type { RecordedEvent } from './event-record.js';
import { EVENT_COLUMNS, type EventRow } from './event-json.js';
import { PartitionedLog } from './partitioned-log.js';
import { toRecordedEvent } from './pg-event-reader.js';

/** What compliance asks for. Every field narrows; all are optional. */
export interface AuditFilter {
  agentId?: string;
  /** ISO time, inclusive. */
  from?: string;
  /** ISO time, exclusive. */
  to?: string;
  /** Positions after this one. */
  after?: number;
  /** Positions up to this one (inclusive). */
  toPosition?: number;
  types?: string[];
  syscall?: string;
  /** allowed: decided and allowed (not shadowed); denied: refused by policy; shadow: allowed in audit mode; failed: any error reply. */
  decision?: 'allowed' | 'denied' | 'shadow' | 'failed';
  rule?: string;
  policyVersion?: number;
}

const DATA = `event_json(data)`;

/** WHERE clause and parameters for a filter (indexes: position, stream/version, BRIN on recorded_at, credential types). */
export function auditWhere(f: AuditFilter, params: unknown[] = []): { sql: string; params: unknown[] } {
  const c: string[] = [];
  const p = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  if (f.agentId) c.push(`stream_id = ${p(`agent:${f.agentId}`)}`);
  if (f.from) c.push(`recorded_at >= ${p(f.from)}::timestamptz`);
  if (f.to) c.push(`recorded_at < ${p(f.to)}::timestamptz`);
  if (f.after !== undefined) c.push(`position > ${p(f.after)}`);
  if (f.toPosition !== undefined) c.push(`position <= ${p(f.toPosition)}`);
  if (f.types?.length) c.push(`type = ANY(${p(f.types)}::text[])`);
  const syscallOnly = f.syscall || f.decision || f.rule || f.policyVersion !== undefined;
  if (syscallOnly) c.push(`type = 'SyscallRecorded'`);
  if (f.syscall) c.push(`${DATA}->>'syscall' = ${p(f.syscall)}`);
  if (f.rule) c.push(`${DATA}->'decision'->>'rule' = ${p(f.rule)}`);
  if (f.policyVersion !== undefined) c.push(`${DATA}->'decision'->>'policyVersion' = ${p(String(f.policyVersion))}`);
  if (f.decision === 'allowed') {
    c.push(
      `${DATA}->'decision'->>'allowed' = 'true' AND ${DATA}->'decision'->>'shadow' = 'false' AND ${DATA}->'decision'->>'mode' <> 'skipped'`,
    );
  } else if (f.decision === 'denied') {
    c.push(`${DATA}->'decision'->>'allowed' = 'false' AND ${DATA}->'decision'->>'mode' <> 'skipped'`);
  } else if (f.decision === 'shadow') {
    c.push(`${DATA}->'decision'->>'shadow' = 'true'`);
  } else if (f.decision === 'failed') {
    c.push(`${DATA}->'result'->>'success' = 'false'`);
  }
  return { sql: c.length ? `WHERE ${c.join(' AND ')}` : '', params };
}

export interface AuditPage {
  events: RecordedEvent[];
  /** Continue with `after: next` (null at the end): a position with one partition, a cursor with several. */
  next: number | string | null;
}

/** Matching rows of one partition in position order (at most `limit`), as stored, and whether more may follow. */
export async function queryAuditRows(
  pool: pg.Pool,
  f: AuditFilter,
  limit = 1000,
): Promise<{ rows: EventRow[]; full: boolean }> {
  const { sql, params } = auditWhere(f);
  const n = Math.max(1, Math.min(limit, 10_000));
  const r = await pool.query<EventRow>(
    `SELECT ${EVENT_COLUMNS} FROM events ${sql} ORDER BY position LIMIT ${n}`,
    params,
  );
  return { rows: r.rows, full: r.rows.length === n };
}

/**
 * A query over the whole log: the filter, with `after` and `toPosition` either a position (in
 * every partition) or a cursor (`0:12,1:40,...`: per partition, the last position consumed; a
 * partition not named is at 0, or unbounded for `toPosition`), and optionally one partition.
 */
export interface AuditLogQuery extends Omit<AuditFilter, 'after' | 'toPosition'> {
  /** Only this partition (its positions, `next` a position). */
  partition?: number;
  after?: number | string;
  toPosition?: number | string;
}

/** `0:12,1:40,2:0,3:7`: a cursor over partitions (at most 256 entries of partition:position). */
export const AUDIT_CURSOR_PATTERN = /^\d{1,3}:\d{1,16}(?:,\d{1,3}:\d{1,16}){0,255}$/;

/** Thrown for a cursor or partition this log does not have (a caller's mistake: -5). */
export class AuditCursorError extends Error {
  override readonly name = 'AuditCursorError';
}

/**
 * Per partition, the position a cursor or a plain position names: `fill` for partitions a cursor
 * does not name. Throws {@link AuditCursorError} on a partition the log does not have, a
 * partition named twice or a position beyond 2^53.
 */
export function parseAuditCursor(v: number | string | null | undefined, partitions: number, fill: number): number[] {
  // absent and null (a JSON client's "no bound") are the same
  if (v === undefined || v === null) return new Array<number>(partitions).fill(fill);
  if (typeof v === 'number') return new Array<number>(partitions).fill(v);
  if (!AUDIT_CURSOR_PATTERN.test(v)) throw new AuditCursorError(`'${v.slice(0, 80)}' is not a cursor like 0:12,1:40`);
  const out = new Array<number>(partitions).fill(fill);
  const seen = new Set<number>();
  for (const entry of v.split(',')) {
    const [p, pos] = entry.split(':').map(Number);
    if (p >= partitions) throw new AuditCursorError(`the log has ${partitions} partition(s); no partition ${p}`);
    if (seen.has(p)) throw new AuditCursorError(`the cursor names partition ${p} twice`);
    if (!Number.isSafeInteger(pos)) throw new AuditCursorError(`position ${pos} in the cursor is too large`);
    seen.add(p);
    out[p] = pos;
  }
  return out;
}

/** The cursor text of per-partition positions: `0:12,1:40,2:0,3:7`, every partition, in order. */
export function formatAuditCursor(positions: number[]): string {
  return positions.map((pos, p) => `${p}:${pos}`).join(',');
}

/** One page of the merged order (see {@link queryAuditLog}). */
export interface AuditLogRows {
  /** Rows in the merged order, as stored. */
  rows: EventRow[];
  /** The partition of each row. */
  partitions: number[];
  /** Continue after the first `count` rows (those sent): a cursor, or null when nothing more can follow. */
  next(count: number): string | null;
}

/** The merge order's key: recorded time, then partition, then position. */
function mergeCompare(a: { t: number; p: number; pos: number }, b: { t: number; p: number; pos: number }): number {
  return a.t - b.t || a.p - b.p || a.pos - b.pos;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Matching events of every partition in one documented order: by recorded time, then partition,
 * then position. Each partition's own order is kept (within a partition recorded times never
 * decrease), and a signal delivered across partitions comes after the SignalSent that caused it
 * (the relay records the delivery strictly after it).
 *
 * A k-way merge: up to `limit` matching rows after the cursor from each partition, merged, the
 * first `limit` taken. A partition that returned `limit` rows may have more, all after its last
 * row in the merge order, so the first `limit` merged rows are final. Each partition is read up to
 * the head it had when the page started; a delivery whose cause was recorded after its own
 * partition was read (a page taken while signals are relayed) ends the page before it, so the
 * cause is read first, on the next page.
 */
export async function queryAuditLog(
  log: PartitionedLog,
  q: Omit<AuditLogQuery, 'partition'>,
  limit = 1000,
): Promise<AuditLogRows> {
  const partitions = log.partitions;
  const n = Math.max(1, Math.min(limit, 10_000));
  const start = parseAuditCursor(q.after, partitions, 0);
  const bound = parseAuditCursor(q.toPosition, partitions, Number.MAX_SAFE_INTEGER);
  const { after: _after, toPosition: _toPosition, ...filter } = q;
  for (let attempt = 1; ; attempt++) {
    const reads = await Promise.all(
      log.all().map(async (p) => {
        const pool = log.pool(p);
        const head = (await pool.query<{ position: number }>('SELECT position FROM log_head')).rows[0].position;
        const r = await queryAuditRows(pool, { ...filter, after: start[p], toPosition: Math.min(bound[p], head) }, n);
        return { ...r, head };
      }),
    );
    const merged = reads
      .flatMap((r, p) => r.rows.map((row) => ({ row, p, t: row.recorded_at.getTime(), pos: row.position })))
      .sort(mergeCompare);
    let taken = merged.slice(0, n);
    let more = reads.some((r) => r.full) || merged.length > n;
    const cut = await firstEarlyDelivery(
      log,
      taken,
      reads.map((r) => r.head),
    );
    if (cut === 0 && attempt < 3) continue; // its cause is recorded by now: read the page again
    if (cut >= 0) {
      taken = taken.slice(0, cut);
      more = true;
    }
    return {
      rows: taken.map((e) => e.row),
      partitions: taken.map((e) => e.p),
      next(count: number): string | null {
        if (!(more || count < taken.length)) return null;
        const cursor = [...start];
        for (const e of taken.slice(0, count)) cursor[e.p] = e.pos;
        return formatAuditCursor(cursor);
      },
    };
  }
}

/**
 * The index of the first delivery whose cause (its causationId, in another partition) was
 * recorded after that partition was read for this page, or -1. Only a page read while a signal
 * is being relayed has one.
 */
async function firstEarlyDelivery(
  log: PartitionedLog,
  taken: { row: EventRow; p: number }[],
  heads: number[],
): Promise<number> {
  const causes = new Map<number, string>();
  taken.forEach((e, i) => {
    if (e.row.type !== 'SignalDelivered') return;
    const id = causationId(e.row.metadata);
    if (id) causes.set(i, id);
  });
  if (causes.size === 0) return -1;
  const ids = [...new Set(causes.values())];
  const found = await Promise.all(
    log.all().map((p) =>
      log
        .pool(p)
        .query<{ event_id: string; position: number }>(
          'SELECT event_id::text AS event_id, position FROM events WHERE event_id = ANY($1::uuid[])',
          [ids],
        )
        .then((r) => r.rows.map((row) => ({ ...row, p }))),
    ),
  );
  const where = new Map(found.flat().map((c) => [c.event_id, c]));
  return taken.findIndex((e, i) => {
    const id = causes.get(i);
    const c = id === undefined ? undefined : where.get(id);
    return c !== undefined && c.p !== e.p && c.position > heads[c.p];
  });
}

/** The causationId of stored metadata text, when it is a UUID (anything else is ignored). */
function causationId(metadata: string): string | null {
  try {
    const m = JSON.parse(metadata) as { causationId?: unknown } | null;
    return typeof m?.causationId === 'string' && UUID.test(m.causationId) ? m.causationId : null;
  } catch {
    return null;
  }
}

/** A page of matching events, parsed (for callers inside this process): one partition's by position, or the merged order. */
export async function queryAudit(log: PartitionedLog | pg.Pool, f: AuditLogQuery, limit = 1000): Promise<AuditPage> {
  const l = log instanceof PartitionedLog ? log : PartitionedLog.single(log);
  if (l.partitions === 1 || f.partition !== undefined) {
    const partition = f.partition ?? 0;
    const { partition: _p, ...rest } = f;
    const one = (v: number | string | undefined, fill: number) =>
      v === undefined || v === null ? undefined : parseAuditCursor(v, l.partitions, fill)[partition];
    const { rows, full } = await queryAuditRows(
      l.pool(partition),
      { ...rest, after: one(f.after, 0), toPosition: one(f.toPosition, Number.MAX_SAFE_INTEGER) },
      limit,
    );
    const events = rows.map((r) => toRecordedEvent(r, partition));
    return { events, next: full && events.length ? events[events.length - 1].position : null };
  }
  const page = await queryAuditLog(l, f, limit);
  return {
    events: page.rows.map((r, i) => toRecordedEvent(r, page.partitions[i])),
    next: page.next(page.rows.length),
  };
}

export interface AuditStats {
  events: number;
  syscalls: number;
  byDecision: { allowed: number; denied: number; shadow: number; skipped: number };
  byErrorCode: Record<string, number>;
  topAgents: { agentId: string; syscalls: number }[];
  avgExecutionTimeMs: number | null;
  firstPosition: number | null;
  lastPosition: number | null;
  /** Each partition's counts and positions (logs of several partitions only). */
  partitions?: PartitionAuditStats[];
}

/** One partition's share of {@link AuditStats} (logs of several partitions). */
export interface PartitionAuditStats {
  partition: number;
  events: number;
  syscalls: number;
  firstPosition: number | null;
  lastPosition: number | null;
}

/**
 * The seed's recorder statistics (totals by verdict, top agents, average time), over the log:
 * every partition's, added up (an agent lives in one partition, so per-partition top lists merge
 * exactly). With several partitions, first and last positions are per partition (`partitions`),
 * and the top-level ones are null. `after`/`toPosition` are as in {@link queryAuditLog}.
 */
export async function auditStats(log: PartitionedLog | pg.Pool, f: AuditLogQuery): Promise<AuditStats> {
  const l = log instanceof PartitionedLog ? log : PartitionedLog.single(log);
  const { partition, after, toPosition, ...rest } = f;
  const which = partition !== undefined ? [partition] : l.all();
  const start = after === undefined || after === null ? undefined : parseAuditCursor(after, l.partitions, 0);
  const bound =
    toPosition === undefined || toPosition === null
      ? undefined
      : parseAuditCursor(toPosition, l.partitions, Number.MAX_SAFE_INTEGER);
  const parts = await Promise.all(
    which.map((p) =>
      partitionStats(l.pool(p), {
        ...rest,
        ...(start ? { after: start[p] } : {}),
        ...(bound ? { toPosition: bound[p] } : {}),
      }),
    ),
  );
  if (l.partitions === 1) return parts[0].stats;
  const sum = (k: (s: AuditStats) => number) => parts.reduce((n, x) => n + k(x.stats), 0);
  const byErrorCode: Record<string, number> = {};
  for (const x of parts)
    for (const [code, n] of Object.entries(x.stats.byErrorCode)) byErrorCode[code] = (byErrorCode[code] ?? 0) + n;
  const timed = parts.reduce((n, x) => n + x.timed, 0);
  const timeSum = parts.reduce((n, x) => n + x.timeSum, 0);
  return {
    events: sum((s) => s.events),
    syscalls: sum((s) => s.syscalls),
    byDecision: {
      allowed: sum((s) => s.byDecision.allowed),
      denied: sum((s) => s.byDecision.denied),
      shadow: sum((s) => s.byDecision.shadow),
      skipped: sum((s) => s.byDecision.skipped),
    },
    byErrorCode,
    topAgents: parts
      .flatMap((x) => x.stats.topAgents)
      .sort((a, b) => b.syscalls - a.syscalls || (a.agentId < b.agentId ? -1 : a.agentId > b.agentId ? 1 : 0))
      .slice(0, 10),
    avgExecutionTimeMs: timed === 0 ? null : Math.round((timeSum / timed) * 1000) / 1000,
    firstPosition: null,
    lastPosition: null,
    partitions: parts.map((x, i) => ({
      partition: which[i],
      events: x.stats.events,
      syscalls: x.stats.syscalls,
      firstPosition: x.stats.firstPosition,
      lastPosition: x.stats.lastPosition,
    })),
  };
}

async function partitionStats(
  pool: pg.Pool,
  f: AuditFilter,
): Promise<{ stats: AuditStats; timed: number; timeSum: number }> {
  const { sql, params } = auditWhere(f);
  const r = await pool.query(
    `WITH e AS (SELECT position, stream_id, type, CASE WHEN type = 'SyscallRecorded' THEN ${DATA} END AS d FROM events ${sql})
     SELECT count(*)::bigint AS events,
            count(d)::bigint AS syscalls,
            count(*) FILTER (WHERE d->'decision'->>'mode' <> 'skipped' AND d->'decision'->>'allowed' = 'true' AND d->'decision'->>'shadow' = 'false')::bigint AS allowed,
            count(*) FILTER (WHERE d->'decision'->>'mode' <> 'skipped' AND d->'decision'->>'allowed' = 'false')::bigint AS denied,
            count(*) FILTER (WHERE d->'decision'->>'shadow' = 'true')::bigint AS shadow,
            count(*) FILTER (WHERE d->'decision'->>'mode' = 'skipped')::bigint AS skipped,
            avg((d->>'executionTimeMs')::float8) AS avg_ms,
            sum((d->>'executionTimeMs')::float8) AS sum_ms,
            count((d->>'executionTimeMs')::float8)::bigint AS timed,
            min(position) AS first, max(position) AS last,
            (SELECT coalesce(json_object_agg(code, n), '{}') FROM
               (SELECT d->'result'->>'errorCode' AS code, count(*) AS n FROM e WHERE d IS NOT NULL AND d->'result'->>'errorCode' IS NOT NULL GROUP BY 1) x) AS codes,
            (SELECT coalesce(json_agg(json_build_object('agentId', substr(stream_id, 7), 'syscalls', n) ORDER BY n DESC), '[]') FROM
               (SELECT stream_id, count(*) AS n FROM e WHERE d IS NOT NULL GROUP BY 1 ORDER BY 2 DESC LIMIT 10) y) AS top
       FROM e`,
    params,
  );
  const row = r.rows[0];
  return {
    stats: {
      events: Number(row.events),
      syscalls: Number(row.syscalls),
      byDecision: {
        allowed: Number(row.allowed),
        denied: Number(row.denied),
        shadow: Number(row.shadow),
        skipped: Number(row.skipped),
      },
      byErrorCode: Object.fromEntries(
        Object.entries(row.codes as Record<string, string>).map(([k, v]) => [k, Number(v)]),
      ),
      topAgents: (row.top as { agentId: string; syscalls: string }[]).map((t) => ({
        agentId: t.agentId,
        syscalls: Number(t.syscalls),
      })),
      avgExecutionTimeMs: row.avg_ms === null ? null : Math.round(Number(row.avg_ms) * 1000) / 1000,
      firstPosition: row.first,
      lastPosition: row.last,
    },
    timed: Number(row.timed),
    timeSum: row.sum_ms === null ? 0 : Number(row.sum_ms),
  };
}
