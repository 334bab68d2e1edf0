import type { SyscallName } from '#contracts';
import type { AgentState } from '#agent-state';
import type { PolicyInForce } from '../policy-in-force.js';

/** Everything a handler decides on: the request, the agent as recorded, the decision time and policy. */
export interface HandlerContext {
  agentId: string;
  requestId: string;
  syscall: SyscallName;
  args: Record<string, unknown>;
  state: AgentState;
  at: string;
  policy: PolicyInForce;
}
