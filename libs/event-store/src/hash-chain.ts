import { hash } from 'node:crypto';

/** prevHash of the first event. */
export const GENESIS_HASH = '0'.repeat(64);

/** The stored columns a hash covers. `data` and `metadata` are canonical JSON text, as stored. */
export interface HashedFields {
  position: number;
  streamId: string;
  streamVersion: number;
  eventId: string;
  idempotencyKey: string | null;
  type: string;
  schemaVersion: number;
  dataJson: string;
  metadataJson: string;
  recordedAt: string;
  prevHash: string;
}

/**
 * The canonical bytes of an event: the RFC 8785 form of
 * `{data, eventId, idempotencyKey, metadata, position, prevHash, recordedAt, schemaVersion,
 * streamId, streamVersion, type}` with `position` as a decimal string and `recordedAt` as an ISO
 * 8601 UTC string with milliseconds. Keys are written in sorted order and `data`/`metadata` are
 * embedded as their stored canonical text, so the result is itself canonical JSON.
 */
export function canonicalEventBytes(f: HashedFields): string {
  return (
    '{"data":' +
    f.dataJson +
    ',"eventId":' +
    JSON.stringify(f.eventId) +
    ',"idempotencyKey":' +
    JSON.stringify(f.idempotencyKey) +
    ',"metadata":' +
    f.metadataJson +
    ',"position":' +
    JSON.stringify(String(f.position)) +
    ',"prevHash":' +
    JSON.stringify(f.prevHash) +
    ',"recordedAt":' +
    JSON.stringify(f.recordedAt) +
    ',"schemaVersion":' +
    String(f.schemaVersion) +
    ',"streamId":' +
    JSON.stringify(f.streamId) +
    ',"streamVersion":' +
    String(f.streamVersion) +
    ',"type":' +
    JSON.stringify(f.type) +
    '}'
  );
}

/** hash = lower-case hex SHA-256 of the canonical bytes (which include prevHash). */
export function eventHash(f: HashedFields): string {
  // one-shot hash of the UTF-8 bytes (the same digest as createHash().update(s, 'utf8'), cheaper)
  return hash('sha256', canonicalEventBytes(f), 'hex');
}
