import type { NatsConnection } from '@nats-io/transport-node';
import { ErrorCode, Subjects, type LifecycleState } from '#contracts';
import { AdminError } from './admin-error.js';
import { DEFAULT_SUBJECT_PREFIX, openConnection, prefixed, type ConnectionOptions } from './nats-connection.js';

export interface AdminClientOptions extends ConnectionOptions {
  /** How long a request waits for its reply (default 10 s). Admin requests are never retried. */
  timeoutMs?: number;
}

export interface AgentInfo {
  agentId: string;
  role: string;
  state: LifecycleState;
  version: number;
  [field: string]: unknown;
}

/**
 * Ring 0 operations, for operators and tests: in production, NATS permissions keep agents'
 * credentials off these subjects. Failures (`{error: {code, message}}` replies) throw AdminError.
 * Requests are not retried: creating an agent twice is an error, not a no-op.
 */
export class AdminClient {
  private constructor(
    private readonly nc: NatsConnection,
    private readonly ownsConnection: boolean,
    private readonly subjectPrefix: string,
    private readonly timeoutMs: number,
  ) {}

  static async connect(o: AdminClientOptions = {}): Promise<AdminClient> {
    const { nc, owned } = await openConnection(o);
    return new AdminClient(nc, owned, o.subjectPrefix ?? DEFAULT_SUBJECT_PREFIX, o.timeoutMs ?? 10_000);
  }

  /** Registers an agent; an existing agentId is an error. */
  createAgent(agentId: string, role?: string): Promise<{ agentId: string; role: string; state: LifecycleState }> {
    return this.request(Subjects.adminAgentsCreate, { agentId, role });
  }

  getAgent(agentId: string): Promise<AgentInfo> {
    return this.request(Subjects.adminAgentsGet, { agentId });
  }

  /** Delivers a signal as the operator (SIGSTOP, SIGCONT, SIGKILL, ... or its number). */
  signalAgent(
    agentId: string,
    signal: string | number,
    reason?: string,
  ): Promise<{ delivered: boolean; state: LifecycleState }> {
    return this.request(Subjects.adminAgentsSignal, { agentId, signal, reason });
  }

  destroyAgent(agentId: string, reason?: string): Promise<{ agentId: string; state: LifecycleState }> {
    return this.request(Subjects.adminAgentsDestroy, { agentId, reason });
  }

  /** Makes a tool callable with SYS_EXEC (its provider serves `agentos.v1.tool.<name>`). */
  registerTool(name: string, description?: string): Promise<{ name: string }> {
    return this.request(Subjects.adminToolsRegister, { name, description });
  }

  /** Any operator subject, written as `agentos.v1....` (the deployment's prefix is applied). */
  async request<T = Record<string, unknown>>(subject: string, body: unknown): Promise<T> {
    const concrete = prefixed(subject, this.subjectPrefix);
    const msg = await this.nc.request(concrete, JSON.stringify(body), { timeout: this.timeoutMs });
    const reply = msg.json<unknown>();
    const error = errorOf(reply);
    if (error) throw new AdminError(error.code, error.message, concrete);
    return reply as T;
  }

  /** Drains and closes the connection if this client opened it. */
  async close(): Promise<void> {
    if (this.ownsConnection && !this.nc.isClosed() && !this.nc.isDraining()) await this.nc.drain();
  }

  /** The same as {@link close}. */
  disconnect(): Promise<void> {
    return this.close();
  }
}

/** The `{error: {code, message}}` of a failed admin reply; a code-less error counts as the server's fault (-4). */
function errorOf(reply: unknown): { code: number; message: string } | null {
  if (typeof reply !== 'object' || reply === null || !('error' in reply)) return null;
  const error = (reply as { error: unknown }).error;
  if (typeof error !== 'object' || error === null) return null;
  const { code, message } = error as { code?: unknown; message?: unknown };
  return {
    code: typeof code === 'number' ? code : ErrorCode.HANDLER_ERROR,
    message: typeof message === 'string' ? message : 'admin request failed',
  };
}
