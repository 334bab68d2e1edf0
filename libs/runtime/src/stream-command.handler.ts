import { Injectable } from '@nestjs/common';
import type { AppendRequest, CommittedEvent } from '#event-store';
import { RecorderClient, type RecorderOutcome } from './recorder.client.js';

/**
 * Why an attempt could not commit and may be decided again: another writer moved a stream, or
 * the decision found its own view stale before appending (a service knew a later state).
 */
export type LostRace = Extract<RecorderOutcome, { status: 'conflict' | 'condition_failed' }> | { status: 'stale' };

/** One decision: the append that records it, and the answer once it committed. */
export interface Attempt<R> {
  /** What to append (with expected versions and conditions); absent: nothing to record. */
  append?: AppendRequest;
  /** The answer, with the events as committed (null when there was nothing to append). */
  done(committed: CommittedEvent[] | null): R | Promise<R>;
}

/**
 * A command on one or more streams, in the Emmett way: load the state, decide, append with the
 * expected versions it decided on. The handler runs the loop; the command says how to decide
 * and how to answer each way the append can end.
 */
export interface StreamCommand<R> {
  /** Loads what it decides on (freshly after a lost race: `lost` says which stream moved) and decides. */
  attempt(n: number, lost: LostRace | null): Promise<Attempt<R> | { answer: R } | { stale: true }>;
  /** The request's events were already in the log (a retry with the same id or key). */
  duplicate(events: CommittedEvent[]): R | Promise<R>;
  /** Nothing was recorded and retrying may help (-7), or the recorder refused the append for good. */
  failed(f: { status: 'unavailable'; message: string } | { status: 'rejected'; reason: string }): R | Promise<R>;
  /** Kept losing races for the whole budget. */
  exhausted(): R | Promise<R>;
}

export interface CommandBudget {
  /** Give up (exhausted) after this long. */
  ms: number;
  /** ... or after this many attempts. */
  attempts?: number;
}

/**
 * The one generic command handler: decide → append with expected versions → on a lost race
 * decide again on fresh state (with a little backoff once races repeat) → answer. Used by the
 * kernel's syscalls and ring 0 operations and by the policy store, so every writer follows the
 * same optimistic-concurrency loop.
 */
@Injectable()
export class StreamCommandHandler {
  constructor(private readonly recorder: RecorderClient) {}

  async run<R>(cmd: StreamCommand<R>, budget: CommandBudget): Promise<R> {
    const giveUpAt = performance.now() + budget.ms;
    const maxAttempts = budget.attempts ?? Infinity;
    let lost: LostRace | null = null;
    for (let n = 0; n < maxAttempts && performance.now() < giveUpAt; n++) {
      if (n > 2) await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 ** n)));
      const a = await cmd.attempt(n, lost);
      if ('answer' in a) return a.answer;
      if ('stale' in a) {
        lost = { status: 'stale' };
        continue;
      }
      if (!a.append) return a.done(null);
      const out = await this.recorder.append(a.append);
      switch (out.status) {
        case 'committed':
          return out.duplicate ? cmd.duplicate(out.events) : a.done(out.events);
        case 'conflict':
        case 'condition_failed':
          lost = out;
          continue;
        default:
          return cmd.failed(out);
      }
    }
    return cmd.exhausted();
  }
}
