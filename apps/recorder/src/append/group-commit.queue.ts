import type pino from 'pino';
import type { Counter, Histogram } from 'prom-client';
import type { RecorderAppendRequest } from '#contracts';
import { EventStoreUnavailableError, type AppendOutcome, type AppendRequest, type PgEventAppender } from '#event-store';
import type { CommittedEventsPublisher } from './committed-events.publisher.js';

interface Pending {
  request: RecorderAppendRequest;
  /** Epoch ms after which it must not start committing (Infinity: none). */
  deadline: number;
  events: number;
  enqueuedAt: number;
  resolve: (o: AppendOutcome) => void;
  reject: (e: unknown) => void;
}

export interface GroupCommitSettings {
  /** Most events in one transaction. */
  maxBatchEvents: number;
  /** Requests that waited this long before a transaction could take them are refused (-7). */
  maxQueueWaitMs: number;
  /** Queue length (events) beyond which new requests are refused at once (back-pressure). */
  maxQueuedEvents: number;
}

export const GROUP_COMMIT_SETTINGS = Symbol('GROUP_COMMIT_SETTINGS');

/** The recorder's metrics, labelled by partition. */
export interface GroupCommitMetrics {
  batchSize: Histogram<string>;
  batchEvents: Histogram<string>;
  commitSeconds: Histogram<string>;
  queueWaitSeconds: Histogram<string>;
  outcomes: Counter<string>;
}

/**
 * Group commit for one partition: requests that arrive while a transaction is running wait for
 * the next one, which takes them all. Under load each transaction carries many events, so the
 * cost of a commit (fsync) is shared; when idle a request is committed at once. One transaction at
 * a time per partition in a recorder process (partitions commit side by side); several recorder
 * replicas writing one partition serialise on its head row.
 */
export class GroupCommitQueue {
  private queue: Pending[] = [];
  private queuedEvents = 0;
  private running = false;
  private idle: Promise<void> = Promise.resolve();
  private markIdle: () => void = () => undefined;

  private readonly label: { partition: string };
  private readonly outcomes: { inc(outcome: string, n?: number): void };

  constructor(
    readonly partition: number,
    private readonly appender: PgEventAppender,
    private readonly feed: CommittedEventsPublisher,
    private readonly settings: GroupCommitSettings,
    private readonly metrics: GroupCommitMetrics,
    private readonly logger: pino.Logger,
    /** Whether committed events name their partition (a log of several). */
    private readonly namePartition: boolean,
  ) {
    this.label = { partition: String(partition) };
    this.outcomes = { inc: (outcome, n = 1) => metrics.outcomes.inc({ ...this.label, outcome }, n) };
  }

  submit(request: RecorderAppendRequest): Promise<AppendOutcome> {
    const outcome = this.enqueue(request);
    if (!this.running) void this.run();
    return outcome;
  }

  /**
   * Queues several requests at once (one batch message), so that the next transaction takes them
   * together; each settles on its own.
   */
  submitAll(requests: RecorderAppendRequest[], deadline?: number): Promise<AppendOutcome>[] {
    const outcomes = requests.map((r) => this.enqueue(r, deadline));
    if (!this.running) void this.run();
    return outcomes;
  }

  /** `deadline` (epoch ms) applies on top of the request's own. */
  private enqueue(request: RecorderAppendRequest, deadline?: number): Promise<AppendOutcome> {
    const events = countEvents(request);
    if (this.queuedEvents + events > this.settings.maxQueuedEvents) {
      this.outcomes.inc('overloaded');
      return Promise.reject(new EventStoreUnavailableError('recorder overloaded: too many appends queued'));
    }
    return new Promise<AppendOutcome>((resolve, reject) => {
      const own = typeof request.deadline === 'number' ? request.deadline : Infinity;
      this.queue.push({
        request,
        deadline: deadline === undefined ? own : Math.min(own, deadline),
        events,
        enqueuedAt: performance.now(),
        resolve,
        reject,
      });
      this.queuedEvents += events;
    });
  }

  private async run(): Promise<void> {
    this.running = true;
    this.idle = new Promise((r) => (this.markIdle = r));
    try {
      while (this.queue.length > 0) {
        const batch = this.takeBatch();
        if (batch.length === 0) continue;
        const started = performance.now();
        try {
          const results = await this.appender.appendBatchSettled(
            batch.map((p) => toAppendRequest(p.request)),
            batch.map((p) => p.deadline),
          );
          let last = 0;
          const outcomes: AppendOutcome[] = [];
          let failure: EventStoreUnavailableError | null = null;
          batch.forEach((p, i) => {
            const o = results[i];
            if (o instanceof EventStoreUnavailableError) {
              this.outcomes.inc('unavailable');
              failure ??= o;
              p.reject(o);
              return;
            }
            if (this.namePartition && o.status === 'committed') {
              for (const e of o.events) e.partition = this.partition;
            }
            outcomes.push(o);
            this.outcomes.inc(o.status === 'committed' && o.duplicate ? 'duplicate' : o.status);
            if (o.status === 'committed' && !o.duplicate) for (const e of o.events) last = Math.max(last, e.position);
            p.resolve(o);
          });
          if (failure) {
            this.logger.warn(
              { err: (failure as Error).message, requests: batch.length, partition: this.partition },
              'group commit failed',
            );
          }
          if (last > 0) this.feed.publish(this.partition, last, outcomes);
        } catch (err) {
          this.outcomes.inc('unavailable', batch.length);
          this.logger.warn(
            { err: (err as Error).message, requests: batch.length, partition: this.partition },
            'group commit failed',
          );
          for (const p of batch) p.reject(err);
        } finally {
          this.metrics.commitSeconds.observe(this.label, (performance.now() - started) / 1000);
        }
      }
    } finally {
      this.running = false;
      this.markIdle();
    }
  }

  private takeBatch(): Pending[] {
    const batch: Pending[] = [];
    let events = 0;
    const now = performance.now();
    while (this.queue.length > 0) {
      const next = this.queue[0];
      if (batch.length > 0 && events + next.events > this.settings.maxBatchEvents) break;
      this.queue.shift();
      this.queuedEvents -= next.events;
      const waited = now - next.enqueuedAt;
      this.metrics.queueWaitSeconds.observe(this.label, waited / 1000);
      if (waited > this.settings.maxQueueWaitMs || Date.now() > next.deadline) {
        // The caller may already have given up; never commit something it was told failed.
        this.outcomes.inc('expired');
        next.reject(
          new EventStoreUnavailableError(`append waited ${Math.round(waited)} ms for Postgres; not recorded`),
        );
        continue;
      }
      batch.push(next);
      events += next.events;
    }
    if (batch.length) {
      this.metrics.batchSize.observe(this.label, batch.length);
      this.metrics.batchEvents.observe(this.label, events);
    }
    return batch;
  }

  /** Waits until everything queued has been committed or refused. */
  async flush(): Promise<void> {
    while (this.running || this.queue.length > 0) await this.idle;
  }
}

/** The event store sees the request without its transport fields. */
function toAppendRequest(r: RecorderAppendRequest): AppendRequest {
  const out: AppendRequest = { appends: r.appends };
  if (r.conditions) out.conditions = r.conditions;
  if (r.recordedAfter) out.recordedAfter = r.recordedAfter;
  return out;
}

function countEvents(r: AppendRequest): number {
  let n = 0;
  for (const a of r?.appends ?? []) n += Array.isArray(a?.events) ? a.events.length : 0;
  return Math.max(1, n);
}
