import { Injectable } from '@nestjs/common';
import { FEED_HINT_MAX_STREAMS, Subjects, type FeedHint } from '#contracts';
import type { AppendOutcome } from '#event-store';
import { NatsRpcClient } from '#messaging';

/**
 * Announces after each commit which streams moved (FeedHint). Caches of other processes reload
 * them from the log; nothing else is taken from the message, so it carries no event data and
 * costs a few bytes per stream. Best effort: a lost hint costs a conflict and a reload.
 */
@Injectable()
export class CommittedEventsPublisher {
  constructor(private readonly rpc: NatsRpcClient) {}

  publish(partition: number, head: number, outcomes: AppendOutcome[]): void {
    const versions = new Map<string, number>();
    for (const o of outcomes) {
      if (o.status !== 'committed' || o.duplicate) continue;
      for (const e of o.events) versions.set(e.streamId, Math.max(versions.get(e.streamId) ?? 0, e.streamVersion));
    }
    if (versions.size === 0) return;
    const all = [...versions];
    const at = Date.now();
    for (let i = 0; i < all.length; i += FEED_HINT_MAX_STREAMS) {
      const hint: FeedHint = { p: partition, head, at, s: all.slice(i, i + FEED_HINT_MAX_STREAMS) };
      this.rpc.publish(Subjects.feed(partition), hint);
    }
    this.rpc.publish(Subjects.eventsAppended, { position: head });
  }
}
