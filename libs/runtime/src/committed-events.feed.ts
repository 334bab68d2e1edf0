import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type pino from 'pino';
import { Subjects, readFeedHint, type FeedHint } from '#contracts';
import { NatsRpcClient } from '#messaging';
import { Metrics } from '#observability';
import type { Counter, Histogram } from 'prom-client';
import { NATS_CONNECTION, ROOT_LOGGER } from './runtime.tokens.js';

export type FeedListener = (hint: FeedHint) => void;

/**
 * Subscribes (every replica, no queue group) to the recorder's commit hints. A listener learns
 * which streams moved and reloads what it holds from the log: the message itself is never taken
 * as the truth, so a forged or malformed one costs a read at most.
 */
@Injectable()
export class CommittedEventsFeed implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly listeners: FeedListener[] = [];
  private sub?: Subscription;
  private readonly hints: Counter<'outcome'>;
  private readonly delay: Histogram<string>;

  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    private readonly rpc: NatsRpcClient,
    @Inject(ROOT_LOGGER) private readonly logger: pino.Logger,
    @Inject(Metrics) metrics: Metrics,
  ) {
    this.hints = metrics.counter('agentos_feed_hints_total', 'Commit hints received, by outcome', ['outcome']);
    // replay lag: how long after a commit this process learns of it
    this.delay = metrics.histogram(
      'agentos_feed_delay_seconds',
      'Time from a commit to this process receiving its hint (replay lag)',
    );
  }

  onCommitted(listener: FeedListener): void {
    this.listeners.push(listener);
  }

  onApplicationBootstrap(): void {
    this.sub = this.nc.subscribe(this.rpc.subject(Subjects.feedAll), {
      callback: (err, msg) => {
        if (err) return;
        let hint: FeedHint | null = null;
        try {
          hint = readFeedHint(msg.json());
        } catch {
          hint = null;
        }
        if (!hint) {
          this.hints.inc({ outcome: 'ignored' });
          this.logger.debug('ignoring a feed message that is not a commit hint');
          return;
        }
        this.hints.inc({ outcome: 'applied' });
        this.delay.observe(Math.max(0, Date.now() - hint.at) / 1000);
        for (const l of this.listeners) {
          try {
            l(hint);
          } catch (e) {
            this.logger.warn({ err: (e as Error).message }, 'a feed listener failed');
          }
        }
      },
    });
  }

  onModuleDestroy(): void {
    this.sub?.unsubscribe();
  }
}
