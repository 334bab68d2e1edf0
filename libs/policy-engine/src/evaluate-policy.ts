import type { CompiledPolicy, CompiledRule } from './compile-policy.js';
import type { OnViolation } from './policy-document.js';

export interface PolicyRequest {
  agentId: string;
  role: string;
  action: string;
  syscall: string;
  args: Record<string, unknown>;
  ring: number;
}

/** How often this agent already used matching actions (derived from the log by the caller). */
export interface RateUsage {
  count(counts: (action: string) => boolean, windowMinutes: number): number;
}

export interface PolicyDecision {
  allowed: boolean;
  /** The check, limit, rule or role that decided (`check:…`, `rate:…`, a rule name, `role:…`, `defaults`). */
  rule: string | null;
  reason: string | null;
  /** Allowed only because the violated rule audits instead of enforcing. */
  shadow: boolean;
  onViolation: OnViolation | null;
}

const NO_USAGE: RateUsage = { count: () => 0 };

/**
 * Decides one request. Order (the conflict rule, see README.md):
 * 1. argument checks; 2. rate limits; 3. rules by priority (higher first; at equal priority deny
 * before allow; then document order), the first that matches decides; 4. the role's allow-list
 * (with its conditions); 5. the defaults. A violation whose onViolation is `audit` does not
 * decide: it is remembered (shadow) and evaluation goes on; if the request is finally allowed,
 * the decision is `allowed` with `shadow: true` and names the audited rule.
 */
export function evaluatePolicy(p: CompiledPolicy, req: PolicyRequest, usage: RateUsage = NO_USAGE): PolicyDecision {
  let shadow: { rule: string; reason: string } | null = null;
  const violation = (rule: string, reason: string, onViolation: OnViolation): PolicyDecision | null => {
    if (onViolation === 'audit') {
      shadow ??= { rule, reason };
      return null;
    }
    return { allowed: false, rule, reason, shadow: false, onViolation };
  };
  const allow = (rule: string | null): PolicyDecision =>
    shadow
      ? { allowed: true, rule: shadow.rule, reason: shadow.reason, shadow: true, onViolation: 'audit' }
      : { allowed: true, rule, reason: null, shadow: false, onViolation: null };

  for (const check of p.checks) {
    if (check.actions && !check.actions.has(req.action)) continue;
    for (const field of check.fields) {
      const v = req.args[field];
      if (typeof v !== 'string') continue;
      const reason = check.test(v);
      if (reason) {
        const d = violation(check.name, reason, check.onViolation);
        if (d) return d;
        break;
      }
    }
  }

  for (const l of p.rateLimits) {
    if ((l.actions && !l.actions.has(req.action)) || (l.roles && !l.roles.has(req.role))) continue;
    const overMinute = l.perMinute !== null && usage.count(l.counts, 1) >= l.perMinute;
    const overHour = !overMinute && l.perHour !== null && usage.count(l.counts, 60) >= l.perHour;
    if (overMinute || overHour) {
      const reason =
        l.message ||
        `Rate limit ${l.name} exceeded: ${overMinute ? `${l.perMinute} per minute` : `${l.perHour} per hour`}`;
      const d = violation(`rate:${l.name}`, reason, l.onViolation);
      if (d) return d;
    }
  }

  const role = p.roles.get(req.role);
  let ctx: Record<string, unknown> | null = null;
  const context = () =>
    (ctx ??= {
      ...(role?.context ?? {}),
      args: req.args,
      context: role?.context ?? {},
      agent: { id: req.agentId, role: req.role },
      action: req.action,
      syscall: req.syscall,
      ring: req.ring,
    });

  const rules: CompiledRule[] = p.rulesByAction.get(req.action) ?? p.anyActionRules;
  for (const r of rules) {
    if ((r.roles && !r.roles.has(req.role)) || (r.agents && !r.agents.has(req.agentId))) continue;
    if (r.when && !r.when(context())) continue;
    if (r.effect === 'allow') return allow(r.name);
    const d = violation(r.name, r.message || `rule ${r.name} denies ${req.action}`, r.onViolation);
    if (d) return d;
  }

  if (role) {
    const conditions = role.conditional.get(req.action);
    const listed = role.any || role.plain.has(req.action);
    if (listed || conditions) {
      if (!conditions || conditions.every((c) => c(context()))) return allow(`role:${req.role}`);
      const d = violation(
        `role:${req.role}`,
        `Conditional permission denied for ${req.action}: Conditions not met`,
        p.defaults.onViolation,
      );
      return d ?? allow(`role:${req.role}`);
    }
  }

  if (p.defaults.effect === 'allow') return allow('defaults');
  const d = violation(
    role ? `role:${req.role}` : 'defaults',
    `Role ${req.role} cannot use action ${req.action}`,
    p.defaults.onViolation,
  );
  return d ?? allow('defaults');
}
