import { Injectable } from '@nestjs/common';
import { Subjects, type FeedEvent, type FeedMessage } from '#contracts';
import type { AppendOutcome, AppendRequest } from '#event-store';
import { NatsRpcClient } from '#messaging';

/** Stay well under NATS's default 1 MiB max_payload. */
const MAX_MESSAGE_BYTES = 512 * 1024;

/**
 * Publishes what a transaction committed, after the commit: the cheap way for every cache in
 * the system (kernel and VFS replicas) to stay current without reading the log. Best effort:
 * a consumer that misses a message notices the version gap and reads the log.
 */
@Injectable()
export class CommittedEventsPublisher {
  constructor(private readonly rpc: NatsRpcClient) {}

  publish(committed: { request: AppendRequest; outcome: AppendOutcome }[]): void {
    let events: string[] = [];
    let omitted: FeedMessage['omitted'] = [];
    let bytes = 0;
    const flush = () => {
      if (events.length === 0 && omitted!.length === 0) return;
      const omittedJson = omitted!.length ? `,"omitted":${JSON.stringify(omitted)}` : '';
      this.rpc.publishRaw(Subjects.eventsCommitted, `{"events":[${events.join(',')}]${omittedJson}}`);
      events = [];
      omitted = [];
      bytes = 0;
    };
    for (const { request, outcome } of committed) {
      if (outcome.status !== 'committed' || outcome.duplicate) continue;
      let i = 0;
      for (const a of request.appends) {
        for (const e of a.events) {
          const c = outcome.events[i++];
          const fe: FeedEvent = {
            position: c.position,
            streamId: c.streamId,
            streamVersion: c.streamVersion,
            eventId: c.eventId,
            type: e.type,
            schemaVersion: e.schemaVersion,
            data: e.data,
            metadata: (e.metadata ?? {}) as Record<string, unknown>,
            recordedAt: outcome.recordedAt,
          };
          const json = JSON.stringify(fe);
          if (json.length > MAX_MESSAGE_BYTES) {
            omitted.push({ streamId: c.streamId, streamVersion: c.streamVersion, position: c.position });
            continue;
          }
          if (bytes + json.length > MAX_MESSAGE_BYTES) flush();
          events.push(json);
          bytes += json.length;
        }
      }
    }
    flush();
  }
}
