import type { DecisionV1 } from '#contracts';
import { usageCount, type AgentState } from '#agent-state';
import { evaluatePolicy, matchingRulesFor, type CompiledPolicy } from '#policy-engine';

/**
 * The policy for one decision: exactly one version, and the fence that orders it in the
 * partition the decision is recorded in (`$policy` itself in partition 0, `$policy@<p>` in the
 * others, which the policy service keeps in step with `$policy`).
 */
export interface PolicyInForce {
  /** The fence stream of the decision's partition. */
  fenceStream: string;
  /** The fence stream's version this was made from; appends are conditioned on it. */
  activation: number;
  version: number | null;
  hash: string | null;
  compiled: CompiledPolicy | null;
  /** Why the active version cannot decide (unreadable or uncompilable in the log): every syscall is denied. */
  unusable: string | null;
  /** No policy applied yet: deny everything (AGENTOS_FAIL_CLOSED) instead of allowing it. */
  failClosed: boolean;
}

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
  hash: string | null;
  name: string | null;
  mode: 'permissive' | 'fail_closed' | 'policy';
  rules: unknown[];
}

/**
 * The recorded decision for one request. Until a policy is applied everything is allowed (the
 * seed without a policy engine) or, fail-closed, denied; rate limits count the agent's usage as
 * its stream recorded it, on the log's clock.
 */
export function decidePolicy(q: PolicyQuery, p: PolicyInForce): DecisionV1 {
  if (p.unusable) {
    return {
      allowed: false,
      mode: 'policy',
      action: q.action,
      policyVersion: p.version,
      rule: null,
      reason: p.unusable,
      shadow: false,
      onViolation: 'deny',
    };
  }
  if (!p.compiled) {
    return p.failClosed
      ? {
          allowed: false,
          mode: 'fail_closed',
          action: q.action,
          policyVersion: null,
          rule: null,
          reason: 'no policy has been applied and the kernel is fail-closed',
          shadow: false,
          onViolation: 'deny',
        }
      : {
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
  const now = Date.parse(q.at);
  const d = evaluatePolicy(
    p.compiled,
    { agentId: q.agentId, role: q.role, action: q.action, syscall: q.syscall, args: q.args, ring: 3 },
    { count: (counts, windowMinutes) => usageCount(q.state, counts, windowMinutes, now) },
  );
  return {
    allowed: d.allowed,
    mode: 'policy',
    action: q.action,
    policyVersion: p.version,
    rule: d.rule,
    reason: d.reason,
    shadow: d.shadow,
    onViolation: d.onViolation,
  };
}

/** Which kind of decision the policy in force makes. */
export function policyMode(p: PolicyInForce): PolicyView['mode'] {
  if (p.compiled || p.unusable) return 'policy';
  return p.failClosed ? 'fail_closed' : 'permissive';
}

export function policyView(p: PolicyInForce, role: string, action?: string): PolicyView {
  if (p.unusable) return { policyVersion: p.version, hash: p.hash, name: null, mode: 'policy', rules: [] };
  if (!p.compiled) {
    return {
      policyVersion: null,
      hash: null,
      name: null,
      mode: p.failClosed ? 'fail_closed' : 'permissive',
      rules: [],
    };
  }
  return {
    policyVersion: p.version,
    hash: p.hash,
    name: p.compiled.name,
    mode: 'policy',
    rules: matchingRulesFor(p.compiled, role, action),
  };
}
