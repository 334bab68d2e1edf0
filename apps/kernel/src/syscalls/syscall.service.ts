import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type pino from 'pino';
import type { AgentOsConfig } from '#config';
import {
  AGENT_ID_PATTERN,
  ErrorCode,
  EventTypes,
  agentPartition,
  agentStream,
  formatPosition,
  type ProtocolError,
  type SignalDeliveredV1,
  type SyscallReply,
  type SyscallResultV1,
} from '#contracts';
import type { AgentState } from '#agent-state';
import { PartitionedLog, type CommittedEvent, type EventMetadata } from '#event-store';
import {
  buildSyscallAppend,
  decideSyscall,
  isKnownSyscall,
  parseSyscallEnvelope,
  type Outside,
  type SyscallEnvelope,
  type SyscallDecision,
} from '#kernel-core';
import { withCorrelation } from '#messaging';
import { AGENTOS_CONFIG, ROOT_LOGGER, StreamCommandHandler, parseJsonBody, type LostRace } from '#runtime';
import { AgentLocks } from '../agents/agent-locks.js';
import { AgentStateCache } from '../agents/agent-state.cache.js';
import { VfsClient } from '../files/vfs.client.js';
import { KernelMetrics } from '../metrics/kernel-metrics.js';
import { PolicyGate } from '../policy/policy-gate.service.js';
import { SignalPublisher } from '../signals/signal-publisher.service.js';
import { SignalRelay } from '../signals/signal-relay.service.js';
import { ToolInvoker } from '../tools/tool-invoker.service.js';
import { ToolRegistry } from '../tools/tool-registry.service.js';
import { RecentReplies } from './recent-replies.js';
import { RecordedReplies } from './recorded-replies.js';

/** Bytes of recent replies kept for retries (AGENTOS_REPLY_CACHE_BYTES). */
export const REPLY_CACHE_BYTES = Symbol('REPLY_CACHE_BYTES');

/** How long one request may keep losing races on its agent's stream before it is answered -7. */
const CONTENTION_BUDGET_MS = 20_000;

/**
 * The syscall path: one request of one agent, from bytes to reply.
 *
 * Per agent, requests run one at a time in this process (AgentLocks); across replicas each
 * request is an optimistic command on the agent's stream (StreamCommandHandler): decide on the
 * cached state at version v (decideSyscall, pure, asking for the VFS's answer, a tool's result or
 * another agent's state as it needs them), append with expected version v, and on a lost race
 * decide again on fresh state. The reply is sent only after the recorder committed the event
 * (invariant 1); a retried `id` is answered from the recorded event (invariant 2).
 */
@Injectable()
export class SyscallService {
  private readonly replies: RecentReplies;
  private readonly host = os.hostname();

  constructor(
    private readonly locks: AgentLocks,
    private readonly recorded: RecordedReplies,
    private readonly agents: AgentStateCache,
    private readonly commands: StreamCommandHandler,
    private readonly gate: PolicyGate,
    private readonly vfs: VfsClient,
    private readonly tools: ToolRegistry,
    private readonly invoker: ToolInvoker,
    private readonly publisher: SignalPublisher,
    private readonly relay: SignalRelay,
    private readonly log: PartitionedLog,
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
        reply = await this.locks.run(agentId, () => this.process(agentId, env, receivedAt));
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
    } else if (reply!.errorCode === ErrorCode.HANDLER_ERROR || reply!.errorCode === ErrorCode.UNAVAILABLE) {
      // failures carry their correlation id at info level: the one line an operator needs
      this.logger.info(
        { agentId, syscall, correlationId: reply!.id, errorCode: reply!.errorCode, error: reply!.errorMessage },
        'syscall failed',
      );
    }
    return reply!;
  }

  private process(agentId: string, env: SyscallEnvelope, receivedAt: number): Promise<SyscallReply> {
    if (env.id) {
      const known = this.replies.get(agentId, env.id);
      if (known) return Promise.resolve(known);
    }
    const requestId = env.id ?? randomUUID();
    return withCorrelation(requestId, () => this.record(agentId, env, requestId, receivedAt));
  }

  /** Decide and record, retrying lost races; the reply once the event is committed. */
  private record(agentId: string, env: SyscallEnvelope, requestId: string, receivedAt: number): Promise<SyscallReply> {
    // a tool's result is kept across attempts: a tool never runs twice for one request
    let toolResult: Outside['tool'];
    return this.commands.run<SyscallReply>(
      {
        attempt: async (n, lost) => {
          if (lost) this.metrics.conflicts.inc();
          let state: AgentState | null;
          try {
            state = await this.load(agentId, n, lost);
          } catch (err) {
            return {
              answer: await this.unavailable(agentId, env, `kernel unavailable: ${(err as Error).message}`, receivedAt),
            };
          }
          if (!state) {
            return {
              answer: unrecorded(env.id, ErrorCode.NOT_REGISTERED, `Agent ${agentId} is not registered`, receivedAt),
            };
          }
          const policy = this.gate.forAgent(agentId);
          if (!policy) {
            return {
              answer: await this.unavailable(
                agentId,
                env,
                'kernel unavailable: the active policy is not loaded yet',
                receivedAt,
              ),
            };
          }
          const at = new Date().toISOString();
          const eventId = randomUUID();
          const outside: Outside = { ...(toolResult ? { tool: toolResult } : {}) };
          let d: SyscallDecision;
          for (;;) {
            d = decideSyscall({ agentId, requestId, envelope: env, state, policy, at, outside });
            if (d.kind !== 'need') break;
            const need = d.need;
            if (need.kind === 'file') {
              outside.file = await this.vfs.execute({
                agentId,
                base: state.files,
                eventId,
                version: state.version + 1,
                syscall: env.syscall as never,
                args: env.args,
                at,
              });
            } else if (need.kind === 'tool') {
              const registered = await this.tools.isRegistered(need.call.tool).catch(() => null);
              if (registered === null) {
                return {
                  answer: await this.unavailable(
                    agentId,
                    env,
                    'kernel unavailable: the tool registry cannot be read',
                    receivedAt,
                  ),
                };
              }
              const result = registered
                ? await this.invoker.invoke(need.call.tool, {
                    agentId,
                    ...need.call,
                    callId: `${agentId}:${requestId}`,
                  })
                : undefined;
              toolResult = outside.tool = { registered, ...(result ? { result } : {}) };
            } else {
              try {
                outside.target = (await this.agents.get(need.agentId)).state;
              } catch (err) {
                return {
                  answer: await this.unavailable(
                    agentId,
                    env,
                    `kernel unavailable: ${(err as Error).message}`,
                    receivedAt,
                  ),
                };
              }
            }
          }
          if (d.kind === 'stale') return { stale: true };
          if (d.kind === 'unavailable') return { answer: await this.unavailable(agentId, env, d.message, receivedAt) };
          const executionTimeMs = Math.round((performance.now() - receivedAt) * 1000) / 1000;
          const built = buildSyscallAppend({
            agentId,
            state,
            requestId,
            envelope: env,
            decision: d.decision,
            outcome: d.outcome,
            at,
            executionTimeMs,
            policy,
            eventId,
            newEventId: randomUUID,
            metadata: (target, causationId) => this.metadata(target, requestId, causationId),
            partitionOf: (id) => agentPartition(id, this.log.partitions),
          });
          const result = d.outcome.result;
          return {
            append: built.request,
            done: (committed) =>
              this.committed(agentId, requestId, built.perStream, committed!, result, executionTimeMs),
          };
        },
        duplicate: () => {
          this.agents.invalidate(agentId);
          return this.replyFromLog(agentId, env, receivedAt);
        },
        failed: (f) => {
          if (f.status === 'unavailable') {
            this.agents.invalidate(agentId); // the outcome may be uncertain: never trust the cache after this
            return this.unavailable(agentId, env, `${f.message}; retry with the same id`, receivedAt);
          }
          this.logger.error({ reason: f.reason, agentId }, 'recorder refused a kernel event');
          return unrecorded(
            env.id,
            ErrorCode.HANDLER_ERROR,
            `the kernel could not record this syscall: ${f.reason}`,
            receivedAt,
          );
        },
        exhausted: () =>
          this.unavailable(agentId, env, 'too much contention on this agent; retry with the same id', receivedAt),
      },
      { ms: CONTENTION_BUDGET_MS },
    );
  }

  /** The agent's state to decide on: cached at first, reloaded from the log after a lost race. */
  private async load(agentId: string, attempt: number, lost: LostRace | null): Promise<AgentState | null> {
    if (attempt === 0 || !lost) return (await this.agents.get(agentId)).state;
    if (lost.status === 'condition_failed') {
      await this.gate.refresh().catch(() => undefined); // a new policy is in force: decide again with it
      return (await this.agents.get(agentId)).state;
    }
    if (lost.status === 'conflict' && lost.streamId !== agentStream(agentId)) {
      await this.agents.refreshStream(lost.streamId).catch(() => undefined); // a signal's target moved
      return (await this.agents.get(agentId)).state;
    }
    return (await this.agents.refresh(agentId)).state;
  }

  /** Committed: fold what was written into the caches, tell agents about their signals, reply. */
  private committed(
    agentId: string,
    requestId: string,
    perStream: ReturnType<typeof buildSyscallAppend>['perStream'],
    committed: CommittedEvent[],
    result: SyscallResultV1,
    executionTimeMs: number,
  ): SyscallReply {
    let i = 0;
    let sent = false;
    for (const s of perStream) {
      const folded = s.events.map((e) => {
        const c = committed[i++];
        return {
          type: e.type,
          schemaVersion: e.schemaVersion,
          data: e.data,
          eventId: e.eventId,
          streamVersion: c.streamVersion,
          position: c.position,
          partition: c.partition,
        };
      });
      this.agents.apply(s.agentId, folded);
      for (const f of folded) {
        if (f.type === EventTypes.SignalDelivered) {
          this.publisher.publish(s.agentId, f.data as unknown as SignalDeliveredV1, f, s.lifecycleAfter);
        } else if (f.type === EventTypes.SignalSent) {
          sent = true;
        }
      }
    }
    if (sent) this.relay.kick(this.log.partitionOf(agentStream(agentId)));
    const first = committed[0];
    const position = formatPosition(first.partition ?? 0, first.position, this.log.partitions);
    const reply = toReply(requestId, result, executionTimeMs, position);
    this.replies.set(agentId, requestId, reply);
    return reply;
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

  private metadata(agentId: string, correlationId: string, causationId?: string): EventMetadata {
    return {
      agentId,
      host: this.host,
      service: 'kernel',
      instanceId: this.config.instanceId,
      correlationId,
      ...(causationId ? { causationId } : {}),
    };
  }
}

function toReply(id: string, r: SyscallResultV1, executionTimeMs: number, position: string): SyscallReply {
  return {
    id,
    success: r.success,
    returnValue: r.returnValue ?? null,
    errorCode: r.errorCode,
    errorMessage: r.errorMessage,
    executionTimeMs,
    position,
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
