import { indexByAction, type ActionIndex } from './action-index.js';
import { compileArgumentChecks, type CompiledCheck } from './argument-checks.js';
import { compileCondition, type Predicate } from './conditions.js';
import { nameSet, type NameSet } from './name-set.js';
import { normalizePolicy, type NormalizedPolicy } from './normalize-policy.js';
import type { PolicyDecision, RateCounter } from './policy-decision.js';
import type { Effect, OnViolation, PolicyDocument } from './policy-document.js';
import { policyContentHash } from './policy-hash.js';

export interface CompiledRule {
  name: string;
  priority: number;
  /** Position in the document: the last tie-break. */
  order: number;
  effect: Effect;
  onViolation: OnViolation;
  /** The reason when it refuses ('' for the engine's own sentence). */
  message: string;
  roles: NameSet;
  agents: NameSet;
  actions: NameSet;
  when: Predicate | null;
  /** The decision when it allows (shared: decisions are read-only). */
  allowed: PolicyDecision;
}

export interface CompiledRateLimit {
  name: string;
  roles: NameSet;
  actions: NameSet;
  perMinute: number | null;
  perHour: number | null;
  onViolation: OnViolation;
  message: string;
  minute: RateCounter;
  hour: RateCounter;
}

export interface CompiledRole {
  name: string;
  anyAllowed: boolean;
  allowed: ReadonlySet<string>;
  anyDenied: boolean;
  denied: ReadonlySet<string>;
  /** Conditions per action; several entries for one action must all hold (the seed). */
  conditional: ReadonlyMap<string, readonly Predicate[]>;
  context: Readonly<Record<string, unknown>>;
  /** The decision when its allow-list allows. */
  allowedDecision: PolicyDecision;
}

/**
 * A policy ready to decide: conditions and regexes compiled, rules sorted in decision order and
 * indexed by action. Built once per policy version, on each replica, from the document (which is
 * what the event log holds): compiling is deterministic, so every replica decides alike.
 */
export interface CompiledPolicy {
  hash: string;
  name: string;
  normalized: NormalizedPolicy;
  defaults: { effect: Effect; onViolation: OnViolation };
  checks: ActionIndex<CompiledCheck>;
  rateLimits: ActionIndex<CompiledRateLimit>;
  rules: ActionIndex<CompiledRule>;
  roles: ReadonlyMap<string, CompiledRole>;
  /** The decision when the defaults allow. */
  defaultAllowed: PolicyDecision;
}

/** The conflict rule: higher priority first; at equal priority deny before allow; then document order. */
export function decisionOrder(a: CompiledRule, b: CompiledRule): number {
  return b.priority - a.priority || (a.effect === b.effect ? 0 : a.effect === 'deny' ? -1 : 1) || a.order - b.order;
}

export function compilePolicy(document: PolicyDocument): CompiledPolicy {
  const n = normalizePolicy(document);
  const rules: CompiledRule[] = n.rules.map((r, order) => ({
    name: r.name,
    priority: r.priority,
    order,
    effect: r.effect,
    onViolation: r.onViolation,
    message: r.message,
    roles: nameSet(r.match.roles),
    agents: nameSet(r.match.agents),
    actions: nameSet(r.match.actions),
    when: r.when ? compileCondition(r.when) : null,
    allowed: allowedBy(r.name),
  }));
  const rateLimits: CompiledRateLimit[] = n.rateLimits.map((l) => {
    const actions = nameSet(l.match.actions);
    const counts = (action: string) => actions === null || actions.has(action);
    return {
      name: l.name,
      roles: nameSet(l.match.roles),
      actions,
      perMinute: l.perMinute ?? null,
      perHour: l.perHour ?? null,
      onViolation: l.onViolation,
      message: l.message,
      minute: counter(counts, l.name, 60_000),
      hour: counter(counts, l.name, 3_600_000),
    };
  });
  const roles = new Map<string, CompiledRole>();
  for (const [name, r] of Object.entries(n.roles)) {
    const allowed = new Set<string>();
    const conditional = new Map<string, Predicate[]>();
    for (const entry of r.allow) {
      if (typeof entry === 'string') allowed.add(entry);
      else conditional.set(entry.action, [...(conditional.get(entry.action) ?? []), compileCondition(entry.when)]);
    }
    const denied = new Set(r.deny ?? []);
    roles.set(name, {
      name,
      anyAllowed: allowed.has('*'),
      allowed,
      anyDenied: denied.has('*'),
      denied,
      conditional,
      context: r.context,
      allowedDecision: allowedBy(`role:${name}`),
    });
  }
  return {
    hash: policyContentHash(document),
    name: n.name,
    normalized: n,
    defaults: n.defaults,
    checks: indexByAction(compileArgumentChecks(n.argumentChecks), (c) => c.actions),
    rateLimits: indexByAction(rateLimits, (l) => l.actions),
    rules: indexByAction(rules, (r) => r.actions, decisionOrder),
    roles,
    defaultAllowed: allowedBy('defaults'),
  };
}

function allowedBy(rule: string): PolicyDecision {
  return Object.freeze({ allowed: true, rule, reason: null, shadow: false, onViolation: null });
}

function counter(counts: (action: string) => boolean, limit: string, windowMs: number): RateCounter {
  return Object.assign((action: string) => counts(action), { limit, windowMs });
}
