import type pg from 'pg';
import { eventHash, GENESIS_HASH } from './hash-chain.js';

export type TamperReason =
  | 'missing' // a position has no event: a row was deleted (or the tail cut off)
  | 'prev_hash_mismatch' // the event does not follow its predecessor: removed or reordered rows
  | 'hash_mismatch' // the stored hash is not the hash of the stored content: altered row
  | 'head_mismatch'; // the log head names a different last event

export interface VerifyProblem {
  position: number;
  reason: TamperReason;
  expected?: string;
  actual?: string;
}

export interface VerifyReport {
  ok: boolean;
  /** Events whose hash was recomputed. */
  checked: number;
  from: number;
  to: number;
  /** Hash of the last verified event: the chain's end point for the range. */
  lastHash: string;
  /** prevHash of the first event of the range: the chain's start point. */
  startHash: string;
  firstBad?: VerifyProblem;
}

export interface VerifyOptions {
  from?: number;
  /** Last position to verify (default: the log head). */
  to?: number;
  batchSize?: number;
  /** Trust this as the hash of event from-1 instead of reading it (e.g. from a signed checkpoint). */
  startHash?: string;
  onProgress?: (checked: number, total: number) => void;
}

/**
 * Recomputes the hash chain over stored bytes and reports the first event that breaks it:
 * altered content, a removed row, rows swapped between positions, or a head that disagrees.
 */
export async function verifyChain(pool: pg.Pool, o: VerifyOptions = {}): Promise<VerifyReport> {
  const head = (await pool.query('SELECT position, hash FROM log_head')).rows[0] as { position: number; hash: string };
  const from = Math.max(1, o.from ?? 1);
  const to = o.to ?? head.position;
  const total = Math.max(0, to - from + 1);
  let running = o.startHash ?? GENESIS_HASH;
  let startHash = running;
  if (o.startHash === undefined && from > 1) {
    const prev = await pool.query('SELECT hash FROM events WHERE position = $1', [from - 1]);
    if (!prev.rowCount) return report(false, 0, { position: from - 1, reason: 'missing' });
    running = prev.rows[0].hash as string;
    startHash = running;
  }
  let expected = from;
  let checked = 0;
  const batchSize = o.batchSize ?? 5000;

  function report(ok: boolean, n: number, firstBad?: VerifyProblem): VerifyReport {
    return { ok, checked: n, from, to, lastHash: running, startHash, ...(firstBad ? { firstBad } : {}) };
  }

  while (expected <= to) {
    const rows = await pool.query(
      `SELECT position, stream_id, stream_version, event_id::text AS event_id, idempotency_key, type,
              schema_version, data, metadata, recorded_at, prev_hash, hash
         FROM events WHERE position >= $1 AND position <= $2 ORDER BY position LIMIT $3`,
      [expected, to, batchSize],
    );
    if (rows.rowCount === 0) return report(false, checked, { position: expected, reason: 'missing' });
    for (const r of rows.rows) {
      if (r.position !== expected) return report(false, checked, { position: expected, reason: 'missing' });
      if (r.prev_hash !== running) {
        return report(false, checked, {
          position: r.position,
          reason: 'prev_hash_mismatch',
          expected: running,
          actual: r.prev_hash,
        });
      }
      const recomputed = eventHash({
        position: r.position,
        streamId: r.stream_id,
        streamVersion: r.stream_version,
        eventId: r.event_id,
        idempotencyKey: r.idempotency_key,
        type: r.type,
        schemaVersion: r.schema_version,
        dataJson: r.data,
        metadataJson: r.metadata,
        recordedAt: (r.recorded_at as Date).toISOString(),
        prevHash: r.prev_hash,
      });
      if (recomputed !== r.hash) {
        return report(false, checked, {
          position: r.position,
          reason: 'hash_mismatch',
          expected: recomputed,
          actual: r.hash,
        });
      }
      running = r.hash;
      checked += 1;
      expected += 1;
    }
    o.onProgress?.(checked, total);
  }
  if (o.to === undefined && running !== head.hash && total > 0) {
    return report(false, checked, { position: to, reason: 'head_mismatch', expected: head.hash, actual: running });
  }
  return report(true, checked);
}
