import type { NatsConnection } from '@nats-io/transport-node';
import { Subjects, type LifecycleState } from '#contracts';
import { openConnection, prefixed, type ConnectionOptions } from './nats-connection.js';
import { AdminError } from './syscall-errors.js';

/** Ring 0 operations for operators and tests (agents' credentials may not publish here). */
export class AdminClient {
  private constructor(
    private readonly nc: NatsConnection,
    private readonly owned: boolean,
    private readonly prefix: string,
    private readonly timeoutMs: number,
  ) {}

  static async connect(o: ConnectionOptions & { timeoutMs?: number } = {}): Promise<AdminClient> {
    const { nc, owned } = await openConnection(o);
    return new AdminClient(nc, owned, o.subjectPrefix ?? 'agentos', o.timeoutMs ?? 10_000);
  }

  createAgent(agentId: string, role?: string): Promise<{ agentId: string; role: string; state: LifecycleState }> {
    return this.request(Subjects.adminAgentsCreate, { agentId, ...(role ? { role } : {}) });
  }

  getAgent(
    agentId: string,
  ): Promise<Record<string, unknown> & { agentId: string; role: string; state: LifecycleState; version: number }> {
    return this.request(Subjects.adminAgentsGet, { agentId });
  }

  signalAgent(
    agentId: string,
    signal: string | number,
    reason?: string,
  ): Promise<{ delivered: boolean; state: LifecycleState }> {
    return this.request(Subjects.adminAgentsSignal, { agentId, signal, ...(reason ? { reason } : {}) });
  }

  destroyAgent(agentId: string, reason?: string): Promise<{ agentId: string; state: LifecycleState }> {
    return this.request(Subjects.adminAgentsDestroy, { agentId, ...(reason ? { reason } : {}) });
  }

  registerTool(name: string, description?: string): Promise<{ name: string }> {
    return this.request(Subjects.adminToolsRegister, { name, ...(description ? { description } : {}) });
  }

  /** Any operator subject (`agentos.v1....`); `{error}` replies throw AdminError. */
  async request<T>(subject: string, body: unknown): Promise<T> {
    const reply = (
      await this.nc.request(prefixed(subject, this.prefix), JSON.stringify(body), { timeout: this.timeoutMs })
    ).json<T & { error?: { code: number; message: string } }>();
    if (reply && typeof reply === 'object' && 'error' in reply && reply.error)
      throw new AdminError(reply.error.code, reply.error.message);
    return reply;
  }

  async disconnect(): Promise<void> {
    if (this.owned) await this.nc.drain();
  }
}
