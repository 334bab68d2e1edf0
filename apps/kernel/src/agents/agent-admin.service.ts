import { Inject, Injectable } from '@nestjs/common';
import { createHash, randomUUID } from 'node:crypto';
import os from 'node:os';
import type pino from 'pino';
import type { AgentOsConfig } from '#config';
import {
  ErrorCode,
  EventTypes,
  ProtocolError,
  Subjects,
  TOOLS_STREAM,
  agentStream,
  clip,
  parseSignal,
  type AgentCreatedV1,
  type AgentDestroyedV1,
  type CredentialIssuedV1,
  type CredentialRevokedV1,
  type LifecycleState,
  type SignalDeliveredV1,
  type ToolRegisteredV1,
  type VfsStateReply,
} from '#contracts';
import { agentDigest, planDeliveries, type AgentState } from '#agent-state';
import { LogQueries, PgEventReader, type CommittedEvent, type NewEvent } from '#event-store';
import { NatsRpcClient } from '#messaging';
import { AGENTOS_CONFIG, ROOT_LOGGER, StreamCommandHandler, type StreamCommand } from '#runtime';
import { CredentialAuthority } from '../credentials/credential-authority.service.js';
import { PolicyGate } from '../policy/policy-gate.service.js';
import { SignalPublisher } from '../signals/signal-publisher.service.js';
import { ToolRegistry } from '../tools/tool-registry.service.js';
import { AgentLocks } from './agent-locks.js';
import { AgentStateCache } from './agent-state.cache.js';

export interface AgentView {
  agentId: string;
  role: string;
  state: LifecycleState;
  version: number;
  position: string;
  createdAt: string;
  exitCode: number | null;
  terminatedBy: string | null;
  blockedSignals: string[];
  pendingSignals: { signal: string; source: string; reason: string }[];
  dispositions: Record<string, string>;
  counters: AgentState['counters'];
  lastPolicyVersion: number | null;
  /** Public keys of its NATS credentials that are not revoked. */
  credentials: string[];
  /** Events of its stream the kernel could not apply, and the last of them. */
  faults: number;
  lastFault: AgentState['lastFault'];
}

/** One event of an admin command, before it is recorded. */
interface Planned {
  type: string;
  data: unknown;
}

/** Ring 0 gives up after this long losing races on one agent. */
const ADMIN_BUDGET = { ms: 10_000, attempts: 16 };

/**
 * Ring 0 operations on agents and tools (admin subjects), each recorded as events through the
 * same optimistic command loop as syscalls, under the same per-agent lock.
 */
@Injectable()
export class AgentAdminService {
  private readonly host = os.hostname();

  constructor(
    private readonly locks: AgentLocks,
    private readonly agents: AgentStateCache,
    private readonly commands: StreamCommandHandler,
    private readonly reader: PgEventReader,
    private readonly tools: ToolRegistry,
    private readonly gate: PolicyGate,
    private readonly publisher: SignalPublisher,
    private readonly rpc: NatsRpcClient,
    private readonly queries: LogQueries,
    @Inject(AGENTOS_CONFIG) private readonly config: AgentOsConfig,
    private readonly credentials: CredentialAuthority,
    @Inject(ROOT_LOGGER) private readonly logger: pino.Logger,
  ) {}

  /**
   * Registers an agent. Where the kernel holds the deployment's NATS authority, the agent's own
   * credentials are minted too: their public key is recorded with the creation (same append) and
   * the `.creds` text is returned to the operator, once.
   */
  async create(
    agentId: string,
    role = 'agent',
  ): Promise<{ agentId: string; role: string; state: LifecycleState; credentials?: string }> {
    const at = new Date().toISOString();
    const credential = this.credentials.enabled ? await this.credentials.issue(agentId) : null;
    const planned: Planned[] = [
      { type: EventTypes.AgentCreated, data: { agentId, role, at } satisfies AgentCreatedV1 },
    ];
    if (credential) {
      const issued: CredentialIssuedV1 = { publicKey: credential.publicKey, expiresAt: credential.expiresAt, at };
      planned.push({ type: EventTypes.CredentialIssued, data: issued });
    }
    return this.locks.run(agentId, () =>
      this.onAgent(agentId, {
        decide: () => ({ planned }),
        conflict: () => new ProtocolError(ErrorCode.INVALID_REQUEST, `agent ${agentId} already exists`),
        answer: () => ({
          agentId,
          role,
          state: 'running' as const,
          ...(credential ? { credentials: credential.creds } : {}),
        }),
      }),
    );
  }

  /** New NATS credentials for an existing agent (lost creds, rotation); earlier ones stay valid until revoked. */
  async issueCredentials(agentId: string): Promise<{ agentId: string; publicKey: string; credentials: string }> {
    if (!this.credentials.enabled) {
      throw new ProtocolError(
        ErrorCode.INVALID_REQUEST,
        'this kernel issues no credentials (AGENTOS_NATS_AUTHORITY unset)',
      );
    }
    const credential = await this.credentials.issue(agentId);
    return this.locks.run(agentId, () =>
      this.onAgent(agentId, {
        decide: (s) => {
          if (s.lifecycle === 'terminated')
            throw new ProtocolError(ErrorCode.TERMINATED, `Agent ${agentId} has been terminated`);
          const data: CredentialIssuedV1 = {
            publicKey: credential.publicKey,
            expiresAt: credential.expiresAt,
            at: new Date().toISOString(),
          };
          return { planned: [{ type: EventTypes.CredentialIssued, data }] };
        },
        answer: () => ({ agentId, publicKey: credential.publicKey, credentials: credential.creds }),
      }),
    );
  }

  async get(agentId: string): Promise<AgentView & { digest: string }> {
    const s = await this.current(agentId);
    return { ...view(s), digest: agentDigest(s) };
  }

  /** Kernel and VFS digests of the agent at its current version, and the active policy version. */
  async digest(agentId: string): Promise<{
    agentId: string;
    version: number;
    kernelDigest: string;
    vfsDigest: string;
    policyVersion: number | null;
    digest: string;
  }> {
    const s = await this.current(agentId);
    const vfs = await this.rpc.request<VfsStateReply | { error: { code: number; message: string } }>(
      Subjects.vfsState,
      {
        agentId,
        base: s.files,
      },
    );
    if ('error' in vfs) throw new ProtocolError(ErrorCode.UNAVAILABLE, `VFS: ${vfs.error.message}`);
    const kernelDigest = agentDigest(s);
    const policyVersion = this.gate.forAgent(agentId)?.version ?? null;
    const digest = createHash('sha256')
      .update(`${kernelDigest}:${vfs.digest}:${policyVersion ?? 'none'}`)
      .digest('hex');
    return { agentId, version: s.version, kernelDigest, vfsDigest: vfs.digest, policyVersion, digest };
  }

  async signal(
    agentId: string,
    signalRaw: unknown,
    reason = '',
  ): Promise<{ delivered: boolean; state: LifecycleState }> {
    const signal = parseSignal(signalRaw);
    if (!signal) throw new ProtocolError(ErrorCode.INVALID_REQUEST, `unknown signal: ${clip(String(signalRaw), 32)}`);
    let stateAfter: LifecycleState = 'running';
    return this.locks.run(agentId, () =>
      this.onAgent<{ delivered: boolean; state: LifecycleState }>(agentId, {
        decide: (s) => {
          const plan = planDeliveries(s, [{ req: { signal, source: 'admin', reason, at: new Date().toISOString() } }]);
          stateAfter = plan.stateAfter;
          if (plan.events.length === 0) return { none: { delivered: false, state: s.lifecycle } };
          return { planned: plan.events.map((e) => ({ type: EventTypes.SignalDelivered, data: e })) };
        },
        answer: (events) => {
          for (const e of events) {
            this.publisher.publish(agentId, e.data as SignalDeliveredV1, e, stateAfter);
          }
          return { delivered: true, state: stateAfter };
        },
      }),
    );
  }

  /** Ends the agent (ring 0) and revokes its NATS credentials in the same append. */
  async destroy(
    agentId: string,
    reason = 'destroyed by an operator',
  ): Promise<{ agentId: string; state: LifecycleState }> {
    let revoked = 0;
    const result = await this.locks.run(agentId, () =>
      this.onAgent<{ agentId: string; state: LifecycleState }>(agentId, {
        decide: (s) => {
          const at = new Date().toISOString();
          const planned: Planned[] = [];
          if (s.lifecycle !== 'terminated') {
            planned.push({ type: EventTypes.AgentDestroyed, data: { agentId, reason, at } satisfies AgentDestroyedV1 });
          }
          for (const publicKey of s.credentials) {
            const data: CredentialRevokedV1 = { publicKey, reason: clip(`agent destroyed: ${reason}`, 1024), at };
            planned.push({ type: EventTypes.CredentialRevoked, data });
          }
          revoked = s.credentials.length;
          if (planned.length === 0) return { none: { agentId, state: 'terminated' as const } };
          return { planned };
        },
        answer: () => ({ agentId, state: 'terminated' as const }),
      }),
    );
    if (revoked > 0) {
      // recorded: the push follows now, and again on every resync until the servers have it
      await this.credentials
        .sync()
        .catch((err) => this.logger.warn({ err: (err as Error).message }, 'revocation push failed; will retry'));
    }
    return result;
  }

  /** Registered agents, by id, a page at a time (from every partition). */
  async list(
    after?: string,
    limit = 500,
  ): Promise<{ agents: { agentId: string; role: string; createdAt: string }[]; next: string | null }> {
    const rows = await this.queries.streamsWithType(EventTypes.AgentCreated, after ? agentStream(after) : null, limit);
    const agents = rows.map((row) => {
      const d = parseRecorded(row.data) as Partial<AgentCreatedV1> | null;
      // the id is the stream's; role and time as recorded (empty when the record is unreadable)
      return {
        agentId: row.streamId.slice('agent:'.length),
        role: String(d?.role ?? ''),
        createdAt: String(d?.at ?? ''),
      };
    });
    return { agents, next: agents.length === limit ? agents[agents.length - 1].agentId : null };
  }

  async registerTool(name: string, description?: string): Promise<{ name: string }> {
    const data: ToolRegisteredV1 = { name, description: description ?? null, at: new Date().toISOString() };
    return this.commands.run<{ name: string }>(
      {
        attempt: async () => ({
          append: {
            appends: [
              { streamId: TOOLS_STREAM, expectedVersion: 'any', events: [this.event(EventTypes.ToolRegistered, data)] },
            ],
          },
          done: () => {
            this.tools.refreshed();
            return { name };
          },
        }),
        duplicate: () => ({ name }),
        failed: (f) => {
          throw failure(f);
        },
        exhausted: () => {
          throw new ProtocolError(ErrorCode.UNAVAILABLE, 'could not register the tool; try again');
        },
      },
      ADMIN_BUDGET,
    );
  }

  async listTools(): Promise<{ tools: { name: string; description: string | null; registeredAt: string }[] }> {
    const tools = await this.tools.list();
    return { tools: [...tools].map(([name, t]) => ({ name, ...t })) };
  }

  /**
   * An admin command on one agent's stream, through the command handler: decide on its state
   * (fresh after a lost race), append the planned events at that version, fold them, answer.
   */
  private onAgent<R>(
    agentId: string,
    c: {
      /** The events to record on the agent's state (none exists yet when creating), or an answer without any. */
      decide: (s: AgentState) => { planned: Planned[] } | { none: R };
      answer: (events: { type: string; data: unknown; position: number; partition?: number }[]) => R;
      /** What a conflict means when the command expects no stream at all (create). */
      conflict?: () => Error;
    },
  ): Promise<R> {
    const creating = c.conflict !== undefined;
    const cmd: StreamCommand<R> = {
      attempt: async (n, lost) => {
        if (creating && lost) throw c.conflict!();
        let s: AgentState | null = null;
        if (!creating) {
          s = n === 0 ? await this.current(agentId) : (await this.agents.refresh(agentId)).state;
          if (!s) throw notRegistered(agentId);
        }
        const d = c.decide(s as AgentState);
        if ('none' in d) return { answer: d.none };
        const events = d.planned.map((p) => this.event(p.type, p.data, agentId));
        return {
          append: {
            appends: [{ streamId: agentStream(agentId), expectedVersion: creating ? 0 : s!.version, events }],
          },
          done: (committed: CommittedEvent[] | null) => {
            const folded = d.planned.map((p, i) => ({
              type: p.type,
              schemaVersion: 1,
              data: p.data,
              eventId: events[i].eventId,
              streamVersion: committed![i].streamVersion,
              position: committed![i].position,
              partition: committed![i].partition,
            }));
            this.agents.apply(agentId, folded);
            return c.answer(folded);
          },
        };
      },
      duplicate: () => {
        throw new ProtocolError(ErrorCode.INVALID_REQUEST, 'already recorded');
      },
      failed: (f) => {
        throw failure(f);
      },
      exhausted: () => {
        throw new ProtocolError(ErrorCode.UNAVAILABLE, 'too much contention on this agent; try again');
      },
    };
    return this.commands.run(cmd, ADMIN_BUDGET);
  }

  /** The agent's state, fresh from the log if another replica moved it. */
  private async current(agentId: string): Promise<AgentState> {
    const cached = await this.agents.get(agentId);
    const latest = await this.reader.streamVersion(agentStream(agentId));
    const s = latest > cached.version ? (await this.agents.refresh(agentId)).state : cached.state;
    if (!s) throw notRegistered(agentId);
    return s;
  }

  private event(type: string, data: unknown, agentId?: string): NewEvent {
    return {
      eventId: randomUUID(),
      type,
      schemaVersion: 1,
      data: data as NewEvent['data'],
      metadata: {
        ...(agentId ? { agentId } : {}),
        host: this.host,
        service: 'kernel',
        instanceId: this.config.instanceId,
        ring: 0,
      },
    };
  }
}

/** -7 when the recorder could not record it now; -5 when it refused it for good. */
function failure(
  f: { status: 'unavailable'; message: string } | { status: 'rejected'; reason: string },
): ProtocolError {
  return f.status === 'unavailable'
    ? new ProtocolError(ErrorCode.UNAVAILABLE, f.message)
    : new ProtocolError(ErrorCode.INVALID_REQUEST, f.reason);
}

function notRegistered(agentId: string): ProtocolError {
  return new ProtocolError(ErrorCode.NOT_REGISTERED, `Agent ${agentId} is not registered`);
}

function view(s: AgentState): AgentView {
  return {
    agentId: s.agentId,
    role: s.role,
    state: s.lifecycle,
    version: s.version,
    position: String(s.position),
    createdAt: s.createdAt,
    exitCode: s.exitCode,
    terminatedBy: s.terminatedBy,
    blockedSignals: s.blocked,
    pendingSignals: s.pending,
    dispositions: Object.fromEntries(s.dispositions),
    counters: s.counters,
    lastPolicyVersion: s.lastPolicyVersion,
    credentials: s.credentials,
    faults: s.faults,
    lastFault: s.lastFault,
  };
}

/** Recorded JSON text, or null where it is not JSON (only tampering puts that in the log). */
function parseRecorded(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
