import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type pino from 'pino';
import { Subjects, type FeedEvent, type FeedMessage } from '#contracts';
import { NatsRpcClient } from '#messaging';
import { Metrics } from '#observability';
import type { Histogram } from 'prom-client';
import { NATS_CONNECTION, ROOT_LOGGER } from './runtime.tokens.js';

export type FeedListener = (events: FeedEvent[], omitted: NonNullable<FeedMessage['omitted']>) => void;

/** Subscribes (every replica, no queue group) to the recorder's feed of committed events. */
@Injectable()
export class CommittedEventsFeed implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly listeners: FeedListener[] = [];
  private sub?: Subscription;
  private readonly delay: Histogram<string>;

  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    private readonly rpc: NatsRpcClient,
    @Inject(ROOT_LOGGER) private readonly logger: pino.Logger,
    @Inject(Metrics) metrics: Metrics,
  ) {
    // replay lag: how long after its commit an event reaches this process's caches
    this.delay = metrics.histogram(
      'agentos_feed_delay_seconds',
      'Time from an event commit to this process folding it (replay lag)',
    );
  }

  onEvents(listener: FeedListener): void {
    this.listeners.push(listener);
  }

  onApplicationBootstrap(): void {
    this.sub = this.nc.subscribe(this.rpc.subject(Subjects.eventsCommitted), {
      callback: (err, msg) => {
        if (err) return;
        try {
          const m = msg.json<FeedMessage>();
          for (const l of this.listeners) l(m.events ?? [], m.omitted ?? []);
          const last = m.events?.[m.events.length - 1];
          if (last) this.delay.observe(Math.max(0, Date.now() - Date.parse(last.recordedAt)) / 1000);
        } catch (e) {
          this.logger.warn({ err: (e as Error).message }, 'ignoring a malformed feed message');
        }
      },
    });
  }

  onModuleDestroy(): void {
    this.sub?.unsubscribe();
  }
}
