import { partitionOf } from '#contracts';
import { eventHash, toCanonicalJson, type RecordedEvent, type TamperReason } from '#event-store';

export interface ChainProblem {
  /** The partition (logs of several partitions). */
  partition?: number;
  position: number;
  reason: TamperReason;
  expected?: string;
  actual?: string;
}

/**
 * Recomputes the hash chain of one partition over events as delivered (over NATS or from an
 * export file), on this side: nothing the server says about its own integrity is taken on
 * trust. `data` and `metadata` are put back into RFC 8785 canonical form, as docs/event-log.md
 * describes. With `partitions` > 1, every event's stream must belong to `partition`.
 */
export class ChainCheck {
  private expected: number;
  lastHash: string;
  checked = 0;

  constructor(
    fromPosition: number,
    startHash: string,
    private readonly partition = 0,
    private readonly partitions = 1,
  ) {
    this.expected = fromPosition;
    this.lastHash = startHash;
  }

  get nextPosition(): number {
    return this.expected;
  }

  check(e: RecordedEvent): ChainProblem | null {
    const problem = this.problem(e);
    return problem && this.partitions > 1 ? { partition: this.partition, ...problem } : problem;
  }

  private problem(e: RecordedEvent): ChainProblem | null {
    if (e.position !== this.expected) return { position: this.expected, reason: 'missing', actual: String(e.position) };
    if (this.partitions > 1) {
      const home = partitionOf(e.streamId, this.partitions);
      if (home !== this.partition)
        return {
          position: e.position,
          reason: 'wrong_partition',
          expected: String(this.partition),
          actual: String(home),
        };
    }
    if (e.prevHash !== this.lastHash)
      return { position: e.position, reason: 'prev_hash_mismatch', expected: this.lastHash, actual: e.prevHash };
    const recomputed = eventHash({
      position: e.position,
      streamId: e.streamId,
      streamVersion: e.streamVersion,
      eventId: e.eventId,
      idempotencyKey: e.idempotencyKey,
      type: e.type,
      schemaVersion: e.schemaVersion,
      dataJson: toCanonicalJson(e.data),
      metadataJson: toCanonicalJson(e.metadata),
      recordedAt: e.recordedAt,
      prevHash: e.prevHash,
    });
    if (recomputed !== e.hash)
      return { position: e.position, reason: 'hash_mismatch', expected: recomputed, actual: e.hash };
    this.lastHash = e.hash;
    this.expected += 1;
    this.checked += 1;
    return null;
  }
}
