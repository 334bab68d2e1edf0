import { Inject, Injectable, type OnApplicationShutdown, type OnModuleDestroy } from '@nestjs/common';
import type pino from 'pino';
import type { RecorderAppendRequest } from '#contracts';
import { EventStoreUnavailableError, PartitionedLog, PgEventAppender, type AppendOutcome } from '#event-store';
import { Metrics } from '#observability';
import type { AgentOsConfig } from '#config';
import { AGENTOS_CONFIG, ROOT_LOGGER } from '#runtime';
import { CommittedEventsPublisher } from './committed-events.publisher.js';
import {
  GROUP_COMMIT_SETTINGS,
  GroupCommitQueue,
  type GroupCommitMetrics,
  type GroupCommitSettings,
} from './group-commit.queue.js';

/** The appender's own connections, per partition: a statement_timeout on every session, never behind a slow reader. */
export const WRITER_LOG = Symbol('WRITER_LOG');

/** Upper bound for any append statement: a stuck one fails instead of holding a partition's head. */
export const APPEND_STATEMENT_TIMEOUT_MS = 5000;

/**
 * One writer per partition: its appender (cached head and stream versions of that partition) and
 * its group-commit queue. Partitions commit side by side, each in its own order; a request is
 * committed by the partition all its streams live in.
 */
@Injectable()
export class PartitionWriters implements OnModuleDestroy, OnApplicationShutdown {
  /** A queue per partition this recorder writes (all, unless AGENTOS_RECORDER_PARTITIONS says fewer). */
  private readonly queues: (GroupCommitQueue | null)[];

  constructor(
    @Inject(WRITER_LOG) private readonly writers: PartitionedLog,
    @Inject(AGENTOS_CONFIG) config: AgentOsConfig,
    feed: CommittedEventsPublisher,
    @Inject(GROUP_COMMIT_SETTINGS) settings: GroupCommitSettings,
    @Inject(Metrics) metrics: Metrics,
    @Inject(ROOT_LOGGER) logger: pino.Logger,
  ) {
    const m: GroupCommitMetrics = {
      batchSize: metrics.histogram(
        'agentos_recorder_batch_requests',
        'Append requests per transaction',
        ['partition'],
        [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
      ),
      batchEvents: metrics.histogram(
        'agentos_recorder_batch_events',
        'Events per transaction',
        ['partition'],
        [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
      ),
      commitSeconds: metrics.histogram('agentos_recorder_commit_seconds', 'Duration of one group-commit transaction', [
        'partition',
      ]),
      queueWaitSeconds: metrics.histogram(
        'agentos_recorder_queue_wait_seconds',
        'Time an append waited for its transaction',
        ['partition'],
      ),
      outcomes: metrics.counter('agentos_recorder_appends_total', 'Append requests by outcome', [
        'partition',
        'outcome',
      ]),
    };
    this.queues = writers
      .all()
      .map(
        (p) =>
          new GroupCommitQueue(
            p,
            new PgEventAppender(writers.pool(p), { statementTimeoutMs: APPEND_STATEMENT_TIMEOUT_MS }),
            feed,
            settings,
            m,
            logger,
            writers.partitions > 1,
          ),
      );
  }

  get partitions(): number {
    return this.writers.partitions;
  }

  /**
   * The partition that commits a request: the one all its streams (appended and conditioned) live
   * in, or a reason it has none (streams in different partitions are never one transaction).
   */
  partitionOf(request: RecorderAppendRequest): number | string {
    let at: { p: number; stream: string } | null = null;
    const streams = [...request.appends.map((a) => a.streamId), ...(request.conditions ?? []).map((c) => c.streamId)];
    for (const stream of streams) {
      const p = this.writers.partitionOf(stream);
      if (!at) at = { p, stream };
      else if (p !== at.p) {
        return (
          `streams of one append must live in one partition: '${at.stream}' is in partition ${at.p}, ` +
          `'${stream}' in partition ${p}`
        );
      }
    }
    return at?.p ?? 0;
  }

  /** Whether this recorder writes a partition (else its owner does: forward there). */
  owns(partition: number): boolean {
    return this.queues[partition] != null;
  }

  submit(partition: number, request: RecorderAppendRequest): Promise<AppendOutcome> {
    return this.queue(partition).submit(request);
  }

  submitAll(partition: number, requests: RecorderAppendRequest[], deadline?: number): Promise<AppendOutcome>[] {
    return this.queue(partition).submitAll(requests, deadline);
  }

  /** Waits until everything queued has been committed or refused, in every partition. */
  async flush(): Promise<void> {
    await Promise.all(this.queues.map((q) => q?.flush()));
  }

  private queue(partition: number): GroupCommitQueue {
    const q = this.queues[partition];
    if (!q) throw new EventStoreUnavailableError(`this recorder does not write partition ${partition}`);
    return q;
  }

  async onModuleDestroy(): Promise<void> {
    await this.flush();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.writers.close();
  }
}
