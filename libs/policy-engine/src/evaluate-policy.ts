import { itemsFor } from './action-index.js';
import type { CompiledPolicy } from './compile-policy.js';
import type { PolicyDecision, PolicyRequest, RateUsage } from './policy-decision.js';
import type { OnViolation } from './policy-document.js';

const NO_USAGE: RateUsage = { count: () => 0 };
const NO_CONTEXT: Readonly<Record<string, unknown>> = Object.freeze({});

/** A violation that audits: remembered, and shown if nothing later refuses. */
interface Shadow {
  rule: string;
  reason: string;
  rateLimit?: { name: string; windowMs: number };
}

/**
 * Decides one request (the conflict rule; README.md):
 * 1. argument checks: a match violates that check;
 * 2. rate limits, from the usage the caller derived from the log;
 * 3. rules by priority (higher first; at equal priority deny before allow; then document order):
 *    the first that matches decides;
 * 4. the role: its deny list, then its allow-list (with its conditions);
 * 5. the defaults (deny unless `defaults.action: allow`).
 * A violation whose onViolation is `audit` does not decide: the first is remembered and
 * evaluation goes on, so an audited rule never opens what the rest of the policy refuses. If the
 * request is finally allowed, the decision is `allowed` with `shadow: true` and names it.
 *
 * Pure and deterministic: no clock, no I/O; allocates only the decision it returns (none when
 * a rule, the role or the defaults simply allow).
 */
export function evaluatePolicy(p: CompiledPolicy, req: PolicyRequest, usage: RateUsage = NO_USAGE): PolicyDecision {
  const action = req.action;
  let shadow: Shadow | null = null;

  const checks = itemsFor(p.checks, action);
  for (let i = 0; i < checks.length; i++) {
    const check = checks[i];
    for (let f = 0; f < check.fields.length; f++) {
      const reason = violationIn(req.args[check.fields[f]], check.test);
      if (reason === null) continue;
      if (check.onViolation !== 'audit') return refused(check.name, reason, check.onViolation);
      shadow ??= { rule: check.name, reason };
      break;
    }
  }

  const limits = itemsFor(p.rateLimits, action);
  for (let i = 0; i < limits.length; i++) {
    const l = limits[i];
    if (l.roles !== null && !l.roles.has(req.role)) continue;
    let windowMs = 0;
    let limit = 0;
    if (l.perMinute !== null && usage.count(l.minute, 1) >= l.perMinute) [windowMs, limit] = [60_000, l.perMinute];
    else if (l.perHour !== null && usage.count(l.hour, 60) >= l.perHour) [windowMs, limit] = [3_600_000, l.perHour];
    if (windowMs === 0) continue;
    const reason =
      l.message || `Rate limit ${l.name} exceeded: ${limit} per ${windowMs === 60_000 ? 'minute' : 'hour'}`;
    const rateLimit = { name: l.name, windowMs };
    if (l.onViolation !== 'audit') return { ...refused(`rate:${l.name}`, reason, l.onViolation), rateLimit };
    shadow ??= { rule: `rate:${l.name}`, reason, rateLimit };
  }

  const role = p.roles.get(req.role);
  const roleContext = role?.context ?? NO_CONTEXT;
  const rules = itemsFor(p.rules, action);
  for (let i = 0; i < rules.length; i++) {
    const r = rules[i];
    if (r.roles !== null && !r.roles.has(req.role)) continue;
    if (r.agents !== null && !r.agents.has(req.agentId)) continue;
    if (r.when !== null && !r.when(req, roleContext)) continue;
    if (r.effect === 'allow') return allowed(r.allowed, shadow);
    const reason = r.message || `Rule ${r.name} denies action ${action}`;
    if (r.onViolation !== 'audit') return refused(r.name, reason, r.onViolation);
    shadow ??= { rule: r.name, reason };
  }

  const onViolation = p.defaults.onViolation;
  if (role !== undefined) {
    if (role.anyDenied || role.denied.has(action)) {
      const reason = `Role ${req.role} cannot use action ${action}`;
      if (onViolation !== 'audit') return refused(`role:${role.name}`, reason, onViolation);
      shadow ??= { rule: `role:${role.name}`, reason };
    } else {
      const conditions = role.conditional.get(action);
      if (conditions !== undefined) {
        let met = true;
        for (let i = 0; i < conditions.length && met; i++) met = conditions[i](req, roleContext);
        if (met) return allowed(role.allowedDecision, shadow);
        const reason = `Conditional permission denied for ${action}: Conditions not met`;
        if (onViolation !== 'audit') return refused(`role:${role.name}`, reason, onViolation);
        shadow ??= { rule: `role:${role.name}`, reason };
      } else if (role.anyAllowed || role.allowed.has(action)) {
        return allowed(role.allowedDecision, shadow);
      }
    }
  }

  if (p.defaults.effect === 'allow') return allowed(p.defaultAllowed, shadow);
  const reason = `Role ${req.role} cannot use action ${action}`;
  const rule = role !== undefined ? `role:${role.name}` : 'defaults';
  if (onViolation !== 'audit') return refused(rule, reason, onViolation);
  return allowed(p.defaultAllowed, shadow ?? { rule, reason });
}

/** The reason the first violating value gives: a string, or each string of a list. */
function violationIn(value: unknown, test: (v: string) => string | null): string | null {
  if (typeof value === 'string') return test(value);
  if (!Array.isArray(value)) return null;
  for (let i = 0; i < value.length; i++) {
    const v: unknown = value[i];
    if (typeof v !== 'string') continue;
    const reason = test(v);
    if (reason !== null) return reason;
  }
  return null;
}

function refused(rule: string, reason: string, onViolation: Exclude<OnViolation, 'audit'>): PolicyDecision {
  return { allowed: false, rule, reason, shadow: false, onViolation };
}

function allowed(decision: PolicyDecision, shadow: Shadow | null): PolicyDecision {
  if (shadow === null) return decision;
  return {
    allowed: true,
    rule: shadow.rule,
    reason: shadow.reason,
    shadow: true,
    onViolation: 'audit',
    ...(shadow.rateLimit ? { rateLimit: shadow.rateLimit } : {}),
  };
}
