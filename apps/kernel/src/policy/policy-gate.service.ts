import { Inject, Injectable } from '@nestjs/common';
import type { AgentOsConfig } from '#config';
import type { DecisionV1 } from '#contracts';
import type { AgentState } from '#agent-state';
import { AGENTOS_CONFIG } from '#runtime';

export interface PolicyQuery {
  agentId: string;
  role: string;
  action: string;
  syscall: string;
  args: Record<string, unknown>;
  state: AgentState;
  at: string;
}

/** What SYS_GETPOLICY shows an agent. */
export interface PolicyView {
  policyVersion: number | null;
  mode: 'permissive' | 'fail_closed' | 'policy';
  rules: unknown[];
}

/**
 * Decides syscalls. Until a policy document is applied every syscall is allowed (the seed's
 * permissive mode without a policy engine) and the decision says so; with AGENTOS_FAIL_CLOSED
 * everything is denied until then.
 */
@Injectable()
export class PolicyGate {
  constructor(@Inject(AGENTOS_CONFIG) private readonly config: AgentOsConfig) {}

  decide(q: PolicyQuery): DecisionV1 {
    if (this.config.failClosed) {
      return {
        allowed: false,
        mode: 'fail_closed',
        action: q.action,
        policyVersion: null,
        rule: null,
        reason: 'no policy has been applied and the kernel is fail-closed',
        shadow: false,
        onViolation: 'deny',
      };
    }
    return {
      allowed: true,
      mode: 'permissive',
      action: q.action,
      policyVersion: null,
      rule: null,
      reason: null,
      shadow: false,
      onViolation: null,
    };
  }

  view(_role: string, _action?: string): PolicyView {
    return { policyVersion: null, mode: this.config.failClosed ? 'fail_closed' : 'permissive', rules: [] };
  }

  /** The version syscall appends must still find in force at commit (none until policies exist). */
  get activeVersion(): number | null {
    return null;
  }
}
