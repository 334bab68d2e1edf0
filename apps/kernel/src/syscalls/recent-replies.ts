import type { SyscallReply } from '#contracts';

/**
 * The last replies per agent, so a retry that comes back to the same replica is answered without
 * touching the log. Only an optimisation: the recorder's idempotency keys are the guarantee.
 */
export class RecentReplies {
  private readonly byAgent = new Map<string, Map<string, SyscallReply>>();

  constructor(private readonly perAgent: number) {}

  get(agentId: string, id: string): SyscallReply | undefined {
    return this.byAgent.get(agentId)?.get(id);
  }

  set(agentId: string, id: string, reply: SyscallReply): void {
    let m = this.byAgent.get(agentId);
    if (!m) {
      m = new Map();
      this.byAgent.set(agentId, m);
      if (this.byAgent.size > 50_000) this.byAgent.delete(this.byAgent.keys().next().value as string);
    }
    m.set(id, reply);
    if (m.size > this.perAgent) m.delete(m.keys().next().value as string);
  }

  forget(agentId: string): void {
    this.byAgent.delete(agentId);
  }
}
