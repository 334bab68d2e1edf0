import type pg from 'pg';
import { partitionOf } from '#contracts';
import { eventHash, GENESIS_HASH } from './hash-chain.js';
import type { PartitionedLog } from './partitioned-log.js';

export type TamperReason =
  | 'missing' // a position has no event: a row was deleted (or the tail cut off)
  | 'prev_hash_mismatch' // the event does not follow its predecessor: removed or reordered rows
  | 'hash_mismatch' // the stored hash is not the hash of the stored content: altered row
  | 'head_mismatch' // the log head names a different last event
  | 'wrong_partition'; // the event's stream belongs to another partition: a row moved between partitions

export interface VerifyProblem {
  position: number;
  reason: TamperReason;
  expected?: string;
  actual?: string;
}

export interface VerifyReport {
  /** The partition verified (present when the log has several). */
  partition?: number;
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
  /**
   * The partition this pool holds and the log's partition count: every event's stream must
   * belong to it (`wrong_partition` otherwise). Default 0 of 1, where every stream belongs.
   */
  partition?: number;
  partitions?: number;
}

/**
 * Recomputes the hash chain of one partition over stored bytes and reports the first event that
 * breaks it: altered content, a removed row, rows swapped between positions, a head that
 * disagrees, or (with `partitions` > 1) an event whose stream lives in another partition.
 */
export async function verifyChain(pool: pg.Pool, o: VerifyOptions = {}): Promise<VerifyReport> {
  const head = (await pool.query('SELECT position, hash FROM log_head')).rows[0] as { position: number; hash: string };
  const partition = o.partition ?? 0;
  const partitions = o.partitions ?? 1;
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
    return {
      ...(partitions > 1 ? { partition } : {}),
      ok,
      checked: n,
      from,
      to,
      lastHash: running,
      startHash,
      ...(firstBad ? { firstBad } : {}),
    };
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
      if (partitions > 1) {
        const home = partitionOf(r.stream_id as string, partitions);
        if (home !== partition) {
          return report(false, checked, {
            position: r.position,
            reason: 'wrong_partition',
            expected: String(partition),
            actual: String(home),
          });
        }
      }
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

export interface VerifyLogOptions {
  /** Only these partitions (default: every one). */
  partitions?: number[];
  /** First position to verify in each partition (default 1). */
  from?: number;
  /** Last position to verify in each partition (default: each partition's head). */
  to?: number;
  batchSize?: number;
  /** Partitions verified at the same time (default 4). */
  concurrency?: number;
  onProgress?: (partition: number, checked: number, total: number) => void;
}

/** Every partition's chain verified: `ok` when each is. */
export interface LogVerifyReport {
  ok: boolean;
  /** Events whose hash was recomputed, over every partition. */
  checked: number;
  /** One report per partition verified, in partition order, each naming its partition. */
  partitions: (VerifyReport & { partition: number })[];
}

/**
 * Verifies the whole log: each partition's chain on its own (its positions, head and hashes), and
 * that each event lives in the partition its stream belongs to. A partition's chain says nothing
 * about the others, which is why a signed checkpoint covers every partition's head.
 */
export async function verifyLog(log: PartitionedLog, o: VerifyLogOptions = {}): Promise<LogVerifyReport> {
  const which = o.partitions ?? log.all();
  for (const p of which) log.pool(p); // an unknown partition fails before any work
  const results: (VerifyReport & { partition: number })[] = new Array(which.length);
  let next = 0;
  const worker = async () => {
    while (next < which.length) {
      const i = next++;
      const partition = which[i];
      const r = await verifyChain(log.pool(partition), {
        from: o.from,
        to: o.to,
        batchSize: o.batchSize,
        partition,
        partitions: log.partitions,
        onProgress: o.onProgress ? (checked, total) => o.onProgress!(partition, checked, total) : undefined,
      });
      results[i] = { ...r, partition };
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(o.concurrency ?? 4, which.length)) }, worker));
  return {
    ok: results.every((r) => r.ok),
    checked: results.reduce((n, r) => n + r.checked, 0),
    partitions: results,
  };
}
