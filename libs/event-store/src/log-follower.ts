import type { RecordedEvent } from './event-record.js';
import type { PgEventReader, ReadAllOptions } from './pg-event-reader.js';

export class LogGapError extends Error {
  override readonly name = 'LogGapError';
  constructor(
    readonly expected: number,
    readonly found: number,
  ) {
    super(`the log skips from position ${expected - 1} to ${found}: events are missing`);
  }
}

export interface FollowOptions {
  /** The partition to follow (default 0; each partition has its own positions). */
  partition?: number;
  /** Start after this position (0: from the beginning). */
  after?: number;
  batchSize?: number;
  /** Poll interval when idle; {@link LogFollower.wake} cuts the wait short. */
  pollMs?: number;
  types?: ReadAllOptions['types'];
  streamPrefix?: ReadAllOptions['streamPrefix'];
}

/**
 * Follows one partition of the log by position (partition 0 unless asked; to follow every
 * partition, run one follower per partition: their orders are independent). Writers commit
 * positions densely and in order, so the cursor is simply the last position seen: a later read
 * can never reveal an earlier position. The follower
 * still checks density and fails loudly (LogGapError) if the log has a hole, which only tampering
 * can cause. With a type or stream filter, positions are sparse and density is not checked.
 */
export class LogFollower {
  private cursor: number;
  private wakeUp: (() => void) | null = null;

  constructor(
    private readonly reader: PgEventReader,
    private readonly options: FollowOptions = {},
  ) {
    this.cursor = options.after ?? 0;
  }

  get position(): number {
    return this.cursor;
  }

  /** Ask for an immediate read (e.g. on a NATS "appended" hint). */
  wake(): void {
    this.wakeUp?.();
  }

  async *follow(signal?: AbortSignal): AsyncGenerator<RecordedEvent> {
    const filtered = Boolean(this.options.types || this.options.streamPrefix);
    while (!signal?.aborted) {
      const batch = await this.reader.readAll({
        partition: this.options.partition ?? 0,
        after: this.cursor,
        limit: this.options.batchSize ?? 1000,
        types: this.options.types,
        streamPrefix: this.options.streamPrefix,
      });
      for (const e of batch) {
        if (!filtered && e.position !== this.cursor + 1) throw new LogGapError(this.cursor + 1, e.position);
        this.cursor = e.position;
        yield e;
        if (signal?.aborted) return;
      }
      if (batch.length === 0) await this.idle(signal);
    }
  }

  private idle(signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.wakeUp = null;
        resolve();
      };
      const timer = setTimeout(done, this.options.pollMs ?? 250);
      signal?.addEventListener('abort', done, { once: true });
      this.wakeUp = done;
    });
  }
}
