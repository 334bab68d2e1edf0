import type { AppendRequest } from './event-record.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const STREAM_ID = /^[\x21-\x7e]{1,200}$/; // printable ASCII, no spaces
const TYPE = /^[A-Za-z][A-Za-z0-9_.:-]{0,127}$/;

export const APPEND_LIMITS = {
  eventsPerRequest: 1000,
  idempotencyKeyLength: 256,
};

/** Returns why a request cannot be appended, or null when it is well formed. */
export function validateAppendRequest(req: AppendRequest): string | null {
  if (!req || typeof req !== 'object' || !Array.isArray(req.appends) || req.appends.length === 0)
    return 'appends must be a non-empty array';
  if (req.conditions !== undefined && req.conditions !== null && !Array.isArray(req.conditions))
    return 'conditions must be an array';
  const streams = new Set<string>();
  const ids = new Set<string>();
  let total = 0;
  for (const a of req.appends) {
    if (!a || typeof a !== 'object' || typeof a.streamId !== 'string' || !STREAM_ID.test(a.streamId))
      return 'invalid streamId';
    if (streams.has(a.streamId)) return `stream ${a.streamId} appears twice in one request`;
    streams.add(a.streamId);
    const ev = a.expectedVersion;
    if (!(ev === 'any' || (Number.isSafeInteger(ev) && (ev as number) >= 0))) {
      return `invalid expectedVersion for ${a.streamId}`;
    }
    if (!Array.isArray(a.events) || a.events.length === 0) return `no events for ${a.streamId}`;
    total += a.events.length;
    for (const e of a.events) {
      if (!e || typeof e !== 'object' || typeof e.eventId !== 'string' || !UUID.test(e.eventId))
        return 'eventId must be a UUID';
      const id = e.eventId.toLowerCase();
      if (ids.has(id)) return `eventId ${e.eventId} appears twice`;
      ids.add(id);
      if (typeof e.type !== 'string' || !TYPE.test(e.type)) return `invalid event type '${String(e.type)}'`;
      if (!Number.isSafeInteger(e.schemaVersion) || e.schemaVersion < 1)
        return 'schemaVersion must be a positive integer';
      if (e.data === undefined) return 'event data is required';
      const key = e.idempotencyKey;
      if (key !== undefined && key !== null) {
        // Postgres text cannot hold U+0000, nor the canonical form a lone surrogate
        if (
          typeof key !== 'string' ||
          key.length === 0 ||
          key.length > APPEND_LIMITS.idempotencyKeyLength ||
          key.includes('\u0000') ||
          !key.isWellFormed()
        ) {
          return 'invalid idempotencyKey';
        }
      }
      if (
        e.metadata !== undefined &&
        (typeof e.metadata !== 'object' || e.metadata === null || Array.isArray(e.metadata))
      ) {
        return 'metadata must be an object';
      }
    }
  }
  if (total > APPEND_LIMITS.eventsPerRequest) return `at most ${APPEND_LIMITS.eventsPerRequest} events per request`;
  if (
    req.recordedAfter !== undefined &&
    (typeof req.recordedAfter !== 'string' ||
      req.recordedAfter.length > 40 ||
      !Number.isFinite(Date.parse(req.recordedAfter)))
  ) {
    return 'recordedAfter must be an ISO time';
  }
  const deadline = (req as { deadline?: unknown }).deadline;
  if (deadline !== undefined && typeof deadline !== 'number') return 'deadline must be a number (epoch ms)';
  for (const c of req.conditions ?? []) {
    if (!c || typeof c.streamId !== 'string' || !STREAM_ID.test(c.streamId)) return 'invalid condition streamId';
    if (!Number.isSafeInteger(c.version) || c.version < 0) return 'invalid condition version';
    if (streams.has(c.streamId)) return `stream ${c.streamId} is both written and a condition`;
  }
  return null;
}
