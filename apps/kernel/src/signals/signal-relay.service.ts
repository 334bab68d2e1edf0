import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type pino from 'pino';
import type { AgentOsConfig } from '#config';
import {
  AGENT_ID_PATTERN,
  EventTypes,
  agentStream,
  clip,
  parseSignal,
  type LifecycleState,
  type SignalDeliveredV1,
} from '#contracts';
import { planDeliveries } from '#agent-state';
import { LogQueries, PartitionedLog, type NewEvent, type RecordedEvent } from '#event-store';
import { AGENTOS_CONFIG, ROOT_LOGGER, StreamCommandHandler, type StreamCommand } from '#runtime';
import { AgentLocks } from '../agents/agent-locks.js';
import { AgentStateCache } from '../agents/agent-state.cache.js';
import { SignalPublisher } from './signal-publisher.service.js';

export interface SignalRelaySettings {
  /** How often each partition's outbox is checked for signals not yet delivered. */
  intervalMs: number;
}
export const SIGNAL_RELAY_SETTINGS = Symbol('SIGNAL_RELAY_SETTINGS');

/** The cursor's name in relay_cursors. */
const CURSOR = 'signals';
/** Outbox entries read per query. */
const PAGE = 200;

type Delivery = 'delivered' | 'duplicate' | 'nothing' | 'failed';

/**
 * Delivers signals sent to agents in other partitions (SignalSent events, the outbox), exactly
 * once: each delivery is the target's SignalDelivered events, decided against the target's state
 * when they are appended (as a signal between agents of one partition is), carrying the
 * idempotency key `signal:<SignalSent id>` and recorded after the SignalSent (recordedAfter), so
 * every merged view shows the cause first.
 *
 * The kernel that recorded a SignalSent relays it at once; every kernel also sweeps each
 * partition's outbox from a cursor, so a signal whose sender crashed right after the commit is
 * still delivered. Several kernels may deliver the same signal: the key makes all but one a
 * duplicate. Per partition, signals are delivered in the order they were sent.
 */
@Injectable()
export class SignalRelay implements OnApplicationBootstrap, OnModuleDestroy {
  private timer?: NodeJS.Timeout;
  private readonly sweeping = new Map<number, Promise<void>>();
  private readonly again = new Set<number>();
  private readonly host = os.hostname();
  private stopped = false;

  constructor(
    private readonly log: PartitionedLog,
    private readonly queries: LogQueries,
    private readonly agents: AgentStateCache,
    private readonly locks: AgentLocks,
    private readonly commands: StreamCommandHandler,
    private readonly publisher: SignalPublisher,
    @Inject(SIGNAL_RELAY_SETTINGS) private readonly settings: SignalRelaySettings,
    @Inject(AGENTOS_CONFIG) private readonly config: AgentOsConfig,
    @Inject(ROOT_LOGGER) private readonly logger: pino.Logger,
  ) {}

  onApplicationBootstrap(): void {
    if (this.log.partitions < 2) return; // one partition: every signal is delivered in its syscall's append
    this.timer = setInterval(() => {
      for (const p of this.log.all()) this.kick(p);
    }, this.settings.intervalMs);
    this.timer.unref();
    for (const p of this.log.all()) this.kick(p);
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await Promise.all([...this.sweeping.values()]);
  }

  /** Sweeps a partition's outbox now (after this kernel recorded a SignalSent in it). */
  kick(partition: number): void {
    if (this.stopped) return;
    if (this.sweeping.has(partition)) {
      this.again.add(partition);
      return;
    }
    const run = this.sweep(partition)
      .catch((err) => this.logger.warn({ partition, err: (err as Error).message }, 'signal relay sweep failed'))
      .finally(() => {
        this.sweeping.delete(partition);
        if (this.again.delete(partition)) this.kick(partition);
      });
    this.sweeping.set(partition, run);
  }

  /** Delivers the partition's outbox from its cursor, in order; stops at the first that cannot be delivered now. */
  private async sweep(partition: number): Promise<void> {
    let cursor = await this.queries.relayCursor(partition, CURSOR);
    for (;;) {
      const sent = await this.queries.signalsSent(partition, cursor, PAGE);
      if (sent.length === 0) return;
      let done = cursor;
      for (const e of sent) {
        if (this.stopped) break;
        const d = await this.deliver(e);
        if (d === 'failed') break;
        done = e.position;
      }
      if (done > cursor) await this.queries.advanceRelayCursor(partition, CURSOR, done);
      if (done !== sent.at(-1)!.position || sent.length < PAGE) return;
      cursor = done;
    }
  }

  private async deliver(sent: RecordedEvent): Promise<Delivery> {
    const d = sent.data as Record<string, unknown> | null;
    const signal = parseSignal(d?.signal);
    const target = typeof d?.target === 'string' && AGENT_ID_PATTERN.test(d.target) ? d.target : null;
    if (!signal || !target) {
      // only tampering puts an unreadable SignalSent in the log (the recorder checks schemas)
      this.logger.error({ eventId: sent.eventId, position: sent.position }, 'unreadable SignalSent skipped');
      return 'nothing';
    }
    const req = {
      signal,
      source: clip(typeof d?.source === 'string' ? d.source : '', 256),
      reason: clip(typeof d?.reason === 'string' ? d.reason : '', 2048),
      at: new Date().toISOString(),
    };
    const causation = sent.metadata;
    let stateAfter: LifecycleState = 'running';
    const cmd: StreamCommand<Delivery> = {
      attempt: async (n) => {
        const s = (n === 0 ? await this.agents.get(target) : await this.agents.refresh(target)).state;
        if (!s) return { answer: 'nothing' }; // no such agent (the sender was told when it sent)
        const plan = planDeliveries(s, [{ req }]);
        if (plan.events.length === 0) return { answer: 'nothing' }; // e.g. terminated meanwhile
        stateAfter = plan.stateAfter;
        const events: NewEvent[] = plan.events.map((e, i) => ({
          eventId: randomUUID(),
          type: EventTypes.SignalDelivered,
          schemaVersion: 1,
          ...(i === 0 ? { idempotencyKey: `signal:${sent.eventId}` } : {}),
          data: e as unknown as NewEvent['data'],
          metadata: {
            agentId: target,
            host: this.host,
            service: 'kernel',
            instanceId: this.config.instanceId,
            ...(typeof causation.correlationId === 'string' ? { correlationId: causation.correlationId } : {}),
            causationId: sent.eventId,
          },
        }));
        return {
          append: {
            appends: [{ streamId: agentStream(target), expectedVersion: s.version, events }],
            recordedAfter: sent.recordedAt,
          },
          done: (committed) => {
            const folded = events.map((e, i) => ({
              type: e.type,
              schemaVersion: 1,
              data: e.data,
              eventId: e.eventId,
              streamVersion: committed![i].streamVersion,
              position: committed![i].position,
            }));
            this.agents.apply(target, folded);
            for (const [i, f] of folded.entries()) {
              this.publisher.publish(target, f.data as unknown as SignalDeliveredV1, committed![i], stateAfter);
            }
            return 'delivered';
          },
        };
      },
      duplicate: () => 'duplicate',
      failed: (f) => {
        this.logger.warn({ eventId: sent.eventId, target, outcome: f }, 'signal not delivered yet; will retry');
        return 'failed';
      },
      exhausted: () => 'failed',
    };
    return this.locks.run(target, () => this.commands.run(cmd, { ms: 5000 }));
  }
}
