import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type pg from 'pg';
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
  type CredentialIssuedV1,
  type CredentialRevokedV1,
  type AgentDestroyedV1,
  type LifecycleState,
  type SignalDeliveredV1,
  type ToolRegisteredV1,
  type VfsStateReply,
} from '#contracts';
import { agentDigest, planDeliveries, type AgentState } from '#agent-state';
import { PgEventReader, type NewEvent, type StreamEvent } from '#event-store';
import { NatsRpcClient } from '#messaging';
import { AGENTOS_CONFIG, PG_POOL, ROOT_LOGGER } from '#runtime';
import type pino from 'pino';
import { CredentialAuthority } from '../credentials/credential-authority.service.js';
import { createHash } from 'node:crypto';
import { PolicyGate } from '../policy/policy-gate.service.js';
import { RecorderClient } from '#runtime';
import { SignalPublisher } from '../signals/signal-publisher.service.js';
import { ToolRegistry } from '../tools/tool-registry.service.js';
import { AgentStateCache } from './agent-state.cache.js';
import { AgentLocks } from './agent-locks.js';

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

/** Ring 0 operations on agents and tools (admin subjects), each recorded as events. */
@Injectable()
export class AgentAdminService {
  private readonly host = os.hostname();

  constructor(
    private readonly locks: AgentLocks,
    private readonly agents: AgentStateCache,
    private readonly recorder: RecorderClient,
    private readonly reader: PgEventReader,
    private readonly tools: ToolRegistry,
    private readonly gate: PolicyGate,
    private readonly publisher: SignalPublisher,
    private readonly rpc: NatsRpcClient,
    @Inject(PG_POOL) private readonly pool: pg.Pool,
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
    const data: AgentCreatedV1 = { agentId, role, at };
    const credential = this.credentials.enabled ? await this.credentials.issue(agentId) : null;
    const events: { type: string; data: unknown }[] = [{ type: EventTypes.AgentCreated, data }];
    if (credential) {
      const issued: CredentialIssuedV1 = { publicKey: credential.publicKey, expiresAt: credential.expiresAt, at };
      events.push({ type: EventTypes.CredentialIssued, data: issued });
    }
    const out = await this.recorder.append({
      appends: [
        {
          streamId: agentStream(agentId),
          expectedVersion: 0,
          events: events.map((e) => this.event(e.type, e.data, agentId)),
        },
      ],
    });
    if (out.status === 'conflict')
      throw new ProtocolError(ErrorCode.INVALID_REQUEST, `agent ${agentId} already exists`);
    const committed = this.committed(out);
    this.agents.apply(
      agentId,
      events.map((e, i) => ({
        type: e.type,
        schemaVersion: 1,
        data: e.data,
        streamVersion: committed[i].streamVersion,
        position: committed[i].position,
      })),
    );
    return { agentId, role, state: 'running', ...(credential ? { credentials: credential.creds } : {}) };
  }

  /** New NATS credentials for an existing agent (lost creds, rotation); earlier ones stay valid until revoked. */
  async issueCredentials(agentId: string): Promise<{ agentId: string; publicKey: string; credentials: string }> {
    if (!this.credentials.enabled) {
      throw new ProtocolError(
        ErrorCode.INVALID_REQUEST,
        'this kernel issues no credentials (AGENTOS_NATS_AUTHORITY unset)',
      );
    }
    return this.locks.run(agentId, async () => {
      for (let attempt = 0; attempt < 16; attempt++) {
        const s = attempt === 0 ? await this.current(agentId) : (await this.agents.refresh(agentId)).state;
        if (!s) throw notRegistered(agentId);
        if (s.lifecycle === 'terminated') {
          throw new ProtocolError(ErrorCode.TERMINATED, `Agent ${agentId} has been terminated`);
        }
        const credential = await this.credentials.issue(agentId);
        const data: CredentialIssuedV1 = {
          publicKey: credential.publicKey,
          expiresAt: credential.expiresAt,
          at: new Date().toISOString(),
        };
        const out = await this.recorder.append({
          appends: [
            {
              streamId: agentStream(agentId),
              expectedVersion: s.version,
              events: [this.event(EventTypes.CredentialIssued, data, agentId)],
            },
          ],
        });
        if (out.status === 'conflict') continue;
        const [c] = this.committed(out);
        this.agents.apply(agentId, [
          {
            type: EventTypes.CredentialIssued,
            schemaVersion: 1,
            data,
            streamVersion: c.streamVersion,
            position: c.position,
          },
        ]);
        return { agentId, publicKey: credential.publicKey, credentials: credential.creds };
      }
      throw new ProtocolError(ErrorCode.UNAVAILABLE, 'too much contention on this agent; try again');
    });
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
        version: s.version,
      },
    );
    if ('error' in vfs) throw new ProtocolError(ErrorCode.UNAVAILABLE, `VFS: ${vfs.error.message}`);
    const kernelDigest = agentDigest(s);
    const policyVersion = this.gate.snapshot()?.version ?? null;
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
    return this.locks.run(agentId, async () => {
      for (let attempt = 0; attempt < 16; attempt++) {
        const s = attempt === 0 ? await this.current(agentId) : (await this.agents.refresh(agentId)).state;
        if (!s) throw notRegistered(agentId);
        const plan = planDeliveries(s, [{ req: { signal, source: 'admin', reason, at: new Date().toISOString() } }]);
        if (plan.events.length === 0) return { delivered: false, state: s.lifecycle };
        const events = plan.events.map((e) => this.event(EventTypes.SignalDelivered, e, agentId));
        const out = await this.recorder.append({
          appends: [{ streamId: agentStream(agentId), expectedVersion: s.version, events }],
        });
        if (out.status === 'conflict') continue;
        const committed = this.committed(out);
        const folded: StreamEvent[] = plan.events.map((e, i) => ({
          type: EventTypes.SignalDelivered,
          schemaVersion: 1,
          data: e,
          streamVersion: committed[i].streamVersion,
          position: committed[i].position,
        }));
        this.agents.apply(agentId, folded);
        for (const f of folded)
          this.publisher.publish(agentId, f.data as SignalDeliveredV1, f.position, plan.stateAfter);
        return { delivered: true, state: plan.stateAfter };
      }
      throw new ProtocolError(ErrorCode.UNAVAILABLE, 'too much contention on this agent; try again');
    });
  }

  async destroy(
    agentId: string,
    reason = 'destroyed by an operator',
  ): Promise<{ agentId: string; state: LifecycleState }> {
    return this.locks.run(agentId, async () => {
      for (let attempt = 0; attempt < 16; attempt++) {
        const s = attempt === 0 ? await this.current(agentId) : (await this.agents.refresh(agentId)).state;
        if (!s) throw notRegistered(agentId);
        const at = new Date().toISOString();
        // destroying revokes the agent's credentials in the same append, even if it had already ended
        const events: { type: string; data: unknown }[] = [];
        if (s.lifecycle !== 'terminated') {
          events.push({ type: EventTypes.AgentDestroyed, data: { agentId, reason, at } satisfies AgentDestroyedV1 });
        }
        for (const publicKey of s.credentials) {
          const revoked: CredentialRevokedV1 = { publicKey, reason: clip(`agent destroyed: ${reason}`, 1024), at };
          events.push({ type: EventTypes.CredentialRevoked, data: revoked });
        }
        if (events.length === 0) return { agentId, state: 'terminated' as const };
        const out = await this.recorder.append({
          appends: [
            {
              streamId: agentStream(agentId),
              expectedVersion: s.version,
              events: events.map((e) => this.event(e.type, e.data, agentId)),
            },
          ],
        });
        if (out.status === 'conflict') continue;
        const committed = this.committed(out);
        this.agents.apply(
          agentId,
          events.map((e, i) => ({
            type: e.type,
            schemaVersion: 1,
            data: e.data,
            streamVersion: committed[i].streamVersion,
            position: committed[i].position,
          })),
        );
        if (s.credentials.length > 0) {
          // recorded: the push follows now, and again on every resync until the servers have it
          await this.credentials
            .sync()
            .catch((err) => this.logger.warn({ err: (err as Error).message }, 'revocation push failed; will retry'));
        }
        return { agentId, state: 'terminated' as const };
      }
      throw new ProtocolError(ErrorCode.UNAVAILABLE, 'too much contention on this agent; try again');
    });
  }

  /** Registered agents, in creation order, a page at a time. */
  async list(
    after?: string,
    limit = 500,
  ): Promise<{ agents: { agentId: string; role: string; createdAt: string }[]; next: string | null }> {
    const r = await this.pool.query(
      `SELECT stream_id, data FROM events WHERE type = 'AgentCreated' AND ($1::text IS NULL OR stream_id > $1)
       ORDER BY stream_id LIMIT $2`,
      [after ? agentStream(after) : null, limit],
    );
    const agents = r.rows.map((row) => {
      const d = JSON.parse(row.data as string) as AgentCreatedV1;
      return { agentId: d.agentId, role: d.role, createdAt: d.at };
    });
    return { agents, next: agents.length === limit ? agents[agents.length - 1].agentId : null };
  }

  async registerTool(name: string, description?: string): Promise<{ name: string }> {
    const data: ToolRegisteredV1 = { name, description: description ?? null, at: new Date().toISOString() };
    const out = await this.recorder.append({
      appends: [
        { streamId: TOOLS_STREAM, expectedVersion: 'any', events: [this.event(EventTypes.ToolRegistered, data)] },
      ],
    });
    this.committed(out);
    this.tools.refreshed();
    return { name };
  }

  async listTools(): Promise<{ tools: { name: string; description: string | null; registeredAt: string }[] }> {
    const tools = await this.tools.list();
    return { tools: [...tools].map(([name, t]) => ({ name, ...t })) };
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

  private committed(out: Awaited<ReturnType<RecorderClient['append']>>) {
    if (out.status === 'committed') return out.events;
    if (out.status === 'unavailable') throw new ProtocolError(ErrorCode.UNAVAILABLE, out.message);
    if (out.status === 'rejected') throw new ProtocolError(ErrorCode.INVALID_REQUEST, out.reason);
    throw new ProtocolError(ErrorCode.UNAVAILABLE, `unexpected append outcome: ${out.status}`);
  }
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
