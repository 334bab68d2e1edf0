/** An events row as Postgres returns it: `data` and `metadata` are the stored canonical JSON text. */
export interface EventRow {
  position: number;
  stream_id: string;
  stream_version: number;
  event_id: string;
  idempotency_key: string | null;
  type: string;
  schema_version: number;
  data: string;
  metadata: string;
  recorded_at: Date;
  prev_hash: string;
  hash: string;
}

export const EVENT_COLUMNS = `position, stream_id, stream_version, event_id::text AS event_id, idempotency_key, type,
  schema_version, data, metadata, recorded_at, prev_hash, hash`;

/**
 * A RecordedEvent as JSON text, with the stored data and metadata embedded verbatim: what the
 * recorder sends to readers, built without parsing (or re-serialising) what was recorded.
 */
export function eventRowJson(r: EventRow, partition = 0): string {
  return (
    `{"partition":${partition},"position":${r.position},"streamId":${JSON.stringify(r.stream_id)},"streamVersion":${r.stream_version}` +
    `,"eventId":${JSON.stringify(r.event_id)},"idempotencyKey":${JSON.stringify(r.idempotency_key)}` +
    `,"type":${JSON.stringify(r.type)},"schemaVersion":${r.schema_version},"data":${r.data},"metadata":${r.metadata}` +
    `,"recordedAt":"${r.recorded_at.toISOString()}","prevHash":${JSON.stringify(r.prev_hash)},"hash":${JSON.stringify(r.hash)}}`
  );
}

/**
 * `{"events":[...], ...rest}` from rows, cut to a prefix of about `maxBytes` so that the reply
 * fits one NATS message (the caller pages on). `rest` is serialised normally (head, next).
 */
export function eventPageJson(
  rows: EventRow[],
  rest: (count: number, last: EventRow | undefined) => Record<string, unknown>,
  /** The partition of every row, or each row's. */
  partition: number | ((r: EventRow) => number) = 0,
  maxBytes = 768 * 1024,
): string {
  const parts: string[] = [];
  let bytes = 0;
  for (const r of rows) {
    const json = eventRowJson(r, typeof partition === 'number' ? partition : partition(r));
    if (parts.length > 0 && bytes + json.length > maxBytes) break;
    parts.push(json);
    bytes += json.length;
  }
  const tail = JSON.stringify(rest(parts.length, rows[parts.length - 1]));
  return `{"events":[${parts.join(',')}]${tail === '{}' ? '' : `,${tail.slice(1, -1)}`}}`;
}
