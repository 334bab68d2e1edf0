import type pg from 'pg';
import type { RecordedEvent } from './event-record.js';
import { EVENT_COLUMNS, type EventRow } from './event-json.js';
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
  /** Continue with `after: next` (null at the end). */
  next: number | null;
}

/** Matching rows in position order (at most `limit`), as stored, and whether more may follow. */
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

/** A page of matching events, parsed (for callers inside this process). */
export async function queryAudit(pool: pg.Pool, f: AuditFilter, limit = 1000): Promise<AuditPage> {
  const { rows, full } = await queryAuditRows(pool, f, limit);
  const events = rows.map(toRecordedEvent);
  return { events, next: full && events.length ? events[events.length - 1].position : null };
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
}

/** The seed's recorder statistics (totals by verdict, top agents, average time), over the log. */
export async function auditStats(pool: pg.Pool, f: AuditFilter): Promise<AuditStats> {
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
  };
}
