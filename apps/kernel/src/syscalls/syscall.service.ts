import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type pino from 'pino';
import type { AgentOsConfig } from '#config';
import {
  AGENT_ID_PATTERN,
  ErrorCode,
  EventTypes,
  agentStream,
  isVfsSyscall,
  policyActionFor,
  policyArgsFor,
  type DecisionV1,
  type LifecycleState,
  type SignalDeliveredV1,
  type SyscallRecordedV2,
  type SyscallReply,
  type SyscallResultV1,
} from '#contracts';
import { planDeliveries, type AgentState } from '#agent-state';
import { PgEventReader, type AppendRequest, type NewEvent, type StreamEvent } from '#event-store';
import { withCorrelation } from '#messaging';
import { AGENTOS_CONFIG, ROOT_LOGGER, parseJsonBody } from '#runtime';
import { ProtocolError } from '#contracts';
import { AgentStateCache } from '../agents/agent-state.cache.js';
import { AgentLocks } from '../agents/agent-locks.js';
import { KernelMetrics } from '../metrics/kernel-metrics.js';
import { PolicyGate, type PolicySnapshot } from '../policy/policy-gate.service.js';
import { RecorderClient } from '#runtime';
import { SignalPublisher } from '../signals/signal-publisher.service.js';
import { ProcessHandlers } from './handlers/process.handlers.js';
import { PolicyQueryHandlers } from './handlers/policy-query.handlers.js';
import { SignalHandlers } from './handlers/signal.handlers.js';
import { VfsHandler } from './handlers/vfs.handler.js';
import { RecentReplies } from './recent-replies.js';
import { RecordedReplies } from './recorded-replies.js';
import { isKnownSyscall, parseSyscallEnvelope, type SyscallEnvelope } from './syscall-envelope.js';
import { fail, type HandlerContext, type HandlerOutcome, type SignalDeliveries } from './syscall-outcome.js';

/** Bytes of recent replies kept for retries (AGENTOS_REPLY_CACHE_BYTES). */
export const REPLY_CACHE_BYTES = Symbol('REPLY_CACHE_BYTES');

/** How long one request may keep losing races on its agent's stream before it is answered -7. */
const CONTENTION_BUDGET_MS = 20_000;

const SKIPPED: DecisionV1 = {
  allowed: true,
  mode: 'skipped',
  action: null,
  policyVersion: null,
  rule: null,
  reason: null,
  shadow: false,
  onViolation: null,
};

interface Decided {
  decision: DecisionV1;
  handled: HandlerOutcome;
}

/**
 * The syscall path: one request of one agent, from bytes to reply.
 *
 * Per agent, requests run one at a time in this process (KeyedMutex); across replicas each
 * request is an optimistic transaction on the agent's stream: decide on the cached state at
 * version v, append with expected version v, and on a conflict reload and decide again. The
 * reply is sent only after the recorder committed the event (invariant 1); a retried `id` is
 * answered from the recorded event (invariant 2).
 */
@Injectable()
export class SyscallService {
  private readonly replies: RecentReplies;
  private readonly host = os.hostname();

  constructor(
    private readonly locks: AgentLocks,
    private readonly recorded: RecordedReplies,
    private readonly agents: AgentStateCache,
    private readonly recorder: RecorderClient,
    private readonly reader: PgEventReader,
    private readonly gate: PolicyGate,
    private readonly vfs: VfsHandler,
    private readonly signals: SignalHandlers,
    private readonly process: ProcessHandlers,
    private readonly policyQueries: PolicyQueryHandlers,
    private readonly publisher: SignalPublisher,
    private readonly metrics: KernelMetrics,
    @Inject(AGENTOS_CONFIG) private readonly config: AgentOsConfig,
    @Inject(ROOT_LOGGER) private readonly logger: pino.Logger,
    @Inject(REPLY_CACHE_BYTES) replyCacheBytes: number,
  ) {
    this.replies = new RecentReplies(replyCacheBytes);
  }

  async handle(agentId: string, raw: Uint8Array, receivedAt: number): Promise<SyscallReply> {
    let reply: SyscallReply;
    let syscall = 'invalid';
    if (!AGENT_ID_PATTERN.test(agentId)) {
      reply = unrecorded(null, ErrorCode.INVALID_REQUEST, 'agentId in the subject is not valid', receivedAt);
    } else {
      let body: Record<string, unknown> | null = null;
      try {
        body = parseJsonBody(raw, this.config.maxRequestBytes);
      } catch (err) {
        reply = unrecorded(null, ErrorCode.INVALID_REQUEST, (err as ProtocolError).message, receivedAt);
      }
      if (body) {
        const env = parseSyscallEnvelope(body);
        syscall = isKnownSyscall(env) ? env.syscall : 'invalid';
        reply = await this.locks.run(agentId, () => this.process_(agentId, env, receivedAt));
      }
    }
    this.metrics.observe(syscall, reply!, receivedAt);
    if (this.logger.isLevelEnabled('debug')) {
      this.logger.debug(
        {
          agentId,
          syscall,
          correlationId: reply!.id,
          errorCode: reply!.errorCode,
          position: reply!.position,
          ms: reply!.executionTimeMs,
        },
        'syscall',
      );
    }
    return reply!;
  }

  private async process_(agentId: string, env: SyscallEnvelope, receivedAt: number): Promise<SyscallReply> {
    if (env.id) {
      const known = this.replies.get(agentId, env.id);
      if (known) return known;
    }
    const requestId = env.id ?? randomUUID();
    return withCorrelation(requestId, () => this.decideAndRecord(agentId, env, requestId, receivedAt));
  }

  private async decideAndRecord(
    agentId: string,
    env: SyscallEnvelope,
    requestId: string,
    receivedAt: number,
  ): Promise<SyscallReply> {
    const memo = new Map<string, unknown>();
    const giveUpAt = performance.now() + CONTENTION_BUDGET_MS;
    let lostAt = -1;
    for (let attempt = 0; performance.now() < giveUpAt; attempt++) {
      let cached;
      try {
        cached = attempt === 0 ? await this.agents.get(agentId) : await this.agents.after(agentId, lostAt, attempt);
      } catch (err) {
        return this.unavailable(agentId, env, `kernel unavailable: ${(err as Error).message}`, receivedAt);
      }
      if (!cached.state) {
        return unrecorded(env.id, ErrorCode.NOT_REGISTERED, `Agent ${agentId} is not registered`, receivedAt);
      }
      const policy = this.gate.snapshot();
      if (!policy)
        return this.unavailable(agentId, env, 'kernel unavailable: the active policy is not loaded yet', receivedAt);
      const state = cached.state; // immutable: the cache folds into new objects
      const at = new Date().toISOString();
      let decided: Decided;
      try {
        decided = await this.decide(state, env, { agentId, requestId, at, memo, policy });
      } catch (err) {
        // The handler crashed; the kernel survives and records the crash (-4).
        this.logger.error({ err, agentId, syscall: env.syscall }, 'syscall handler failed');
        decided = { decision: SKIPPED, handled: { result: fail(ErrorCode.HANDLER_ERROR, (err as Error).message) } };
      }
      if (decided.handled.stale) {
        this.metrics.conflicts.inc();
        lostAt = state.version;
        continue;
      }
      if (decided.handled.unavailable) {
        return this.unavailable(agentId, env, decided.handled.unavailable, receivedAt);
      }
      const executionTimeMs = Math.round((performance.now() - receivedAt) * 1000) / 1000;
      const returned = decided.handled.returned;
      const record: SyscallRecordedV2 = {
        requestId,
        syscall: env.syscall,
        args: env.args,
        decision: decided.decision,
        // a read records what it returned as a digest; the reply carries the content
        result: returned ? { ...decided.handled.result, returnValue: null } : decided.handled.result,
        ...(returned ? { returned } : {}),
        ...(decided.handled.vfs ? { vfs: decided.handled.vfs } : {}),
        ...(decided.handled.kernel ? { kernel: decided.handled.kernel } : {}),
        at,
        executionTimeMs,
      };
      const { request, perStream } = this.buildAppend(agentId, state, record, decided.handled.deliveries ?? []);
      request.conditions = [this.gate.condition(policy)];
      const out = await this.recorder.append(request);

      if (out.status === 'condition_failed') {
        // a new policy is in force: decide again with it
        this.metrics.conflicts.inc();
        await this.gate.refresh().catch(() => undefined);
        lostAt = -1;
        continue;
      }
      if (out.status === 'conflict') {
        this.metrics.conflicts.inc();
        if (out.streamId !== agentStream(agentId))
          await this.agents.refresh(out.streamId.slice('agent:'.length)).catch(() => undefined);
        lostAt = out.streamId === agentStream(agentId) ? state.version : -1;
        continue;
      }
      if (out.status === 'unavailable') {
        this.agents.invalidate(agentId); // the outcome may be uncertain: never trust the cache after this
        return this.unavailable(agentId, env, `${out.message}; retry with the same id`, receivedAt);
      }
      if (out.status === 'rejected') {
        this.logger.error({ reason: out.reason, agentId }, 'recorder rejected a kernel event');
        return unrecorded(
          env.id,
          ErrorCode.HANDLER_ERROR,
          `the kernel could not record this syscall: ${out.reason}`,
          receivedAt,
        );
      }
      if (out.duplicate) {
        this.agents.invalidate(agentId);
        return this.replyFromLog(agentId, env, receivedAt);
      }

      // Committed: fold what was written into the caches, tell agents about their signals, reply.
      let i = 0;
      for (const s of perStream) {
        const folded: StreamEvent[] = s.events.map((e) => {
          const c = out.events[i++];
          return {
            type: e.type,
            schemaVersion: e.schemaVersion,
            data: e.data,
            streamVersion: c.streamVersion,
            position: c.position,
          };
        });
        this.agents.apply(s.agentId, folded);
        for (const f of folded) {
          if (f.type === EventTypes.SignalDelivered) {
            this.publisher.publish(s.agentId, f.data as SignalDeliveredV1, f.position, s.lifecycleAfter);
          }
        }
      }
      const reply = toReply(requestId, decided.handled.result, executionTimeMs, out.events[0].position);
      this.replies.set(agentId, requestId, reply);
      return reply;
    }
    return this.unavailable(agentId, env, 'too much contention on this agent; retry with the same id', receivedAt);
  }

  /**
   * -7, unless the request's id is already in the log: then its first reply. -7 promises that
   * nothing was recorded, so a known id (a retry after a restart, with the VFS or recorder down)
   * is looked up before that promise is made; if the log cannot be read either, nothing new can
   * have been recorded by this attempt and -7 stands.
   */
  private async unavailable(
    agentId: string,
    env: SyscallEnvelope,
    message: string,
    receivedAt: number,
  ): Promise<SyscallReply> {
    if (env.id) {
      const known = await this.replyFromLog(agentId, env, receivedAt).catch(() => null);
      if (known && known.position !== undefined) return known;
    }
    return unrecorded(env.id, ErrorCode.UNAVAILABLE, message, receivedAt);
  }

  /** The seed's order: terminated (-1), stopped (-6), malformed (-5), policy (-2), no handler (-3), handler. */
  private async decide(
    state: AgentState,
    env: SyscallEnvelope,
    c: { agentId: string; requestId: string; at: string; memo: Map<string, unknown>; policy: PolicySnapshot },
  ): Promise<Decided> {
    if (state.lifecycle === 'terminated') {
      return skipped(fail(ErrorCode.TERMINATED, 'Agent has been terminated'));
    }
    if (state.lifecycle === 'stopped') {
      return skipped(fail(ErrorCode.STOPPED, 'Agent is stopped; it resumes on SIGCONT'));
    }
    if (!isKnownSyscall(env)) {
      return skipped(fail(ErrorCode.INVALID_REQUEST, `Invalid request: ${env.problem ?? 'unknown syscall'}`));
    }
    const ctx: HandlerContext = {
      agentId: c.agentId,
      requestId: c.requestId,
      syscall: env.syscall,
      args: env.args,
      state,
      at: c.at,
      policy: c.policy,
      memo: c.memo,
    };
    const action = policyActionFor(env.syscall, env.args);

    if (env.syscall === 'SYS_CHECKPOLICY') {
      // Checking a policy never violates one (the seed killed agents for asking).
      const view = this.gate.view(c.policy, state.role);
      const decision: DecisionV1 = {
        ...SKIPPED,
        mode: view.mode,
        action,
        policyVersion: view.policyVersion,
        reason: 'SYS_CHECKPOLICY never violates',
      };
      return { decision, handled: this.policyQueries.checkPolicy(ctx) };
    }

    const decision = this.gate.decide(
      {
        agentId: c.agentId,
        role: state.role,
        action,
        syscall: env.syscall,
        args: policyArgsFor(env.syscall, env.args),
        state,
        at: c.at,
      },
      c.policy,
    );
    if (!decision.allowed) {
      const result = fail(
        ErrorCode.POLICY_VIOLATION,
        `Policy '${env.syscall}' blocked: ${decision.reason ?? 'Access denied'}`,
      );
      if (decision.onViolation === 'kill') {
        const plan = planDeliveries(state, [
          { req: { signal: 'SIGPOLICY', source: 'policy', reason: decision.reason ?? env.syscall, at: c.at } },
        ]);
        return {
          decision,
          handled: {
            result,
            deliveries: [
              { agentId: c.agentId, baseVersion: state.version, events: plan.events, stateAfter: plan.stateAfter },
            ],
          },
        };
      }
      return { decision, handled: { result } };
    }

    let handled: HandlerOutcome;
    if (isVfsSyscall(env.syscall)) handled = await this.vfs.execute(ctx);
    else {
      switch (env.syscall) {
        case 'SYS_SIGNAL':
          handled = await this.signals.signal(ctx);
          break;
        case 'SYS_SIGACTION':
          handled = this.signals.sigaction(ctx);
          break;
        case 'SYS_SIGPROCMASK':
          handled = this.signals.sigprocmask(ctx);
          break;
        case 'SYS_EXIT':
          handled = this.process.exit(ctx);
          break;
        case 'SYS_EXEC':
          handled = await this.process.exec(ctx);
          break;
        case 'SYS_GETPOLICY':
          handled = this.policyQueries.getPolicy(ctx);
          break;
        default:
          handled = { result: fail(ErrorCode.NO_HANDLER, `Unknown syscall: ${env.syscall}`) };
      }
    }
    return { decision, handled };
  }

  /** The syscall event first (it carries the idempotency key), then the signals it delivers. */
  private buildAppend(
    agentId: string,
    state: AgentState,
    record: SyscallRecordedV2,
    deliveries: SignalDeliveries[],
  ): { request: AppendRequest; perStream: { agentId: string; events: NewEvent[]; lifecycleAfter: LifecycleState }[] } {
    const syscallEventId = randomUUID();
    const meta = (target: string) => ({
      agentId: target,
      host: this.host,
      service: 'kernel',
      instanceId: this.config.instanceId,
      correlationId: record.requestId,
      ...(target === agentId ? {} : { causationId: syscallEventId }),
    });
    let ownLifecycle: LifecycleState =
      record.kernel?.op === 'exit' && record.result.success ? 'terminated' : state.lifecycle;
    const own = deliveries.find((d) => d.agentId === agentId);
    if (own && ownLifecycle !== 'terminated') ownLifecycle = own.stateAfter;
    if (ownLifecycle !== state.lifecycle) record.transition = ownLifecycle;

    const ownEvents: NewEvent[] = [
      {
        eventId: syscallEventId,
        type: EventTypes.SyscallRecorded,
        schemaVersion: 2,
        idempotencyKey: `req:${record.requestId}`,
        data: record as unknown as NewEvent['data'],
        metadata: meta(agentId),
      },
      ...(own?.events ?? []).map((e) => signalEvent(e, { ...meta(agentId), causationId: syscallEventId })),
    ];
    const perStream = [{ agentId, events: ownEvents, lifecycleAfter: ownLifecycle }];
    const appends: AppendRequest['appends'] = [
      { streamId: agentStream(agentId), expectedVersion: state.version, events: ownEvents },
    ];
    for (const d of deliveries) {
      if (d.agentId === agentId || d.events.length === 0) continue;
      const events = d.events.map((e) => signalEvent(e, meta(d.agentId)));
      appends.push({ streamId: agentStream(d.agentId), expectedVersion: d.baseVersion, events });
      perStream.push({ agentId: d.agentId, events, lifecycleAfter: d.stateAfter });
    }
    return { request: { appends }, perStream };
  }

  /** The same `id` again: the first reply, rebuilt from the recorded event. */
  private async replyFromLog(agentId: string, env: SyscallEnvelope, receivedAt: number): Promise<SyscallReply> {
    const original = env.id ? await this.recorded.find(agentId, env.id).catch(() => null) : null;
    const reply = original ? await this.recorded.replyOf(agentId, original).catch(() => null) : null;
    if (!reply) {
      return unrecorded(
        env.id,
        ErrorCode.UNAVAILABLE,
        'the original reply could not be read back; retry with the same id',
        receivedAt,
      );
    }
    this.replies.set(agentId, reply.id ?? '', reply);
    return reply;
  }
}

function signalEvent(e: SignalDeliveredV1, metadata: NewEvent['metadata']): NewEvent {
  return {
    eventId: randomUUID(),
    type: EventTypes.SignalDelivered,
    schemaVersion: 1,
    data: e as unknown as NewEvent['data'],
    metadata,
  };
}

function skipped(result: SyscallResultV1): Decided {
  return { decision: SKIPPED, handled: { result } };
}

function toReply(id: string, r: SyscallResultV1, executionTimeMs: number, position: number): SyscallReply {
  return {
    id,
    success: r.success,
    returnValue: r.returnValue ?? null,
    errorCode: r.errorCode,
    errorMessage: r.errorMessage,
    executionTimeMs,
    position: String(position),
  };
}

/** A reply for a request that recorded nothing (no position). */
function unrecorded(id: string | null, code: number, message: string, receivedAt: number): SyscallReply {
  return {
    id,
    success: false,
    returnValue: null,
    errorCode: code,
    errorMessage: message,
    executionTimeMs: Math.round((performance.now() - receivedAt) * 1000) / 1000,
  };
}
