import type { OnViolation } from './policy-document.js';

/** One syscall, as the policy sees it. */
export interface PolicyRequest {
  agentId: string;
  role: string;
  /** `file_write`, a tool's name, ... (policyActionFor in #contracts). */
  action: string;
  syscall: string;
  args: Record<string, unknown>;
  /** Attributes the caller knows about this request (`context.x` in conditions); they override the role's. */
  context?: Record<string, unknown>;
  ring: number;
}

/**
 * Which syscalls count toward one rate limit in one window: a predicate over action names that
 * also says which limit (`limit`, its name) and which window (`windowMs`) it is asked for.
 * Built once per policy, so asking costs no allocation.
 */
export type RateCounter = ((action: string) => boolean) & { readonly limit: string; readonly windowMs: number };

/**
 * How often this agent already made matching syscalls in the last `windowMinutes` minutes. The
 * caller derives it from the event log (the engine only decides), so limits hold after a restart
 * and on every replica.
 */
export interface RateUsage {
  count(counter: RateCounter, windowMinutes: number): number;
}

export interface PolicyDecision {
  allowed: boolean;
  /** What decided: `check:<name>`, `rate:<name>`, a rule's name, `role:<role>`, `defaults`. */
  rule: string | null;
  /** A short sentence for the agent: `Policy '<SYSCALL>' blocked: <reason>`. */
  reason: string | null;
  /** Allowed although `rule` was violated, because it audits instead of enforcing. */
  shadow: boolean;
  /** kill | deny when refused, audit when shadowed, null when simply allowed. */
  onViolation: OnViolation | null;
  /** When a rate limit refused (or would have, in shadow): which one, over which window. */
  rateLimit?: { name: string; windowMs: number };
}
