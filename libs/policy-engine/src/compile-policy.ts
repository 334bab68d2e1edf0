import { compileCondition, type Predicate } from './conditions.js';
import type { ArgumentChecks, Effect, OnViolation, PolicyDocument } from './policy-document.js';
import { normalizePolicy, policyContentHash, type NormalizedPolicy } from './normalize-policy.js';
import { compileSafePattern } from './safe-pattern.js';

/** A set of names where `*` (or an absent list) means "any". null: any. */
export type NameSet = ReadonlySet<string> | null;

export interface CompiledRule {
  name: string;
  priority: number;
  order: number;
  effect: Effect;
  onViolation: OnViolation;
  message: string;
  actions: NameSet;
  roles: NameSet;
  agents: NameSet;
  when: Predicate | null;
}

export interface CompiledCheck {
  name: string;
  actions: NameSet;
  fields: string[];
  onViolation: OnViolation;
  /** The reason if the value violates the check. */
  test: (value: string) => string | null;
}

export interface CompiledRateLimit {
  name: string;
  actions: NameSet;
  roles: NameSet;
  perMinute: number | null;
  perHour: number | null;
  onViolation: OnViolation;
  message: string;
  /** Whether an action counts toward this limit. */
  counts: (action: string) => boolean;
}

export interface CompiledRole {
  any: boolean;
  plain: ReadonlySet<string>;
  /** Conditions per action; several entries for one action combine with AND (the seed). */
  conditional: ReadonlyMap<string, Predicate[]>;
  context: Record<string, unknown>;
}

/** A policy ready to decide: regexes compiled, rules pre-sorted per action. Built once per version. */
export interface CompiledPolicy {
  hash: string;
  name: string;
  normalized: NormalizedPolicy;
  defaults: { effect: Effect; onViolation: OnViolation };
  checks: CompiledCheck[];
  rateLimits: CompiledRateLimit[];
  roles: ReadonlyMap<string, CompiledRole>;
  /** Rules that can match each action named in some rule, in decision order. */
  rulesByAction: ReadonlyMap<string, CompiledRule[]>;
  /** Rules that match any action, in decision order (used for actions no rule names). */
  anyActionRules: CompiledRule[];
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
    actions: nameSet(r.match.actions),
    roles: nameSet(r.match.roles),
    agents: nameSet(r.match.agents),
    when: r.when ? compileCondition(r.when) : null,
  }));
  // Decision order: higher priority first; at equal priority deny before allow; then document order.
  const byOrder = (a: CompiledRule, b: CompiledRule) =>
    b.priority - a.priority || (a.effect === b.effect ? 0 : a.effect === 'deny' ? -1 : 1) || a.order - b.order;
  const anyActionRules = rules.filter((r) => r.actions === null).sort(byOrder);
  const named = new Set(rules.flatMap((r) => (r.actions ? [...r.actions] : [])));
  const rulesByAction = new Map<string, CompiledRule[]>();
  for (const a of named)
    rulesByAction.set(a, rules.filter((r) => r.actions === null || r.actions.has(a)).sort(byOrder));

  const roles = new Map<string, CompiledRole>();
  for (const [role, r] of Object.entries(n.roles)) {
    const plain = new Set<string>();
    const conditional = new Map<string, Predicate[]>();
    for (const entry of r.allow) {
      if (typeof entry === 'string') plain.add(entry);
      else conditional.set(entry.action, [...(conditional.get(entry.action) ?? []), compileCondition(entry.when)]);
    }
    roles.set(role, { any: plain.has('*'), plain, conditional, context: r.context });
  }

  return {
    hash: policyContentHash(document),
    name: n.name,
    normalized: n,
    defaults: n.defaults,
    checks: compileChecks(n.argumentChecks),
    rateLimits: n.rateLimits.map((l) => {
      const actions = nameSet(l.match.actions);
      return {
        name: l.name,
        actions,
        roles: nameSet(l.match.roles),
        perMinute: l.perMinute ?? null,
        perHour: l.perHour ?? null,
        onViolation: l.onViolation,
        message: l.message,
        counts: actions === null ? () => true : (a: string) => actions.has(a),
      };
    }),
    roles,
    rulesByAction,
    anyActionRules,
  };
}

export function nameSet(list: readonly string[] | undefined): NameSet {
  if (!list || list.includes('*')) return null;
  return new Set(list);
}

function compileChecks(c: ArgumentChecks): CompiledCheck[] {
  const checks: CompiledCheck[] = [];
  const base = (name: string, k: NonNullable<ArgumentChecks[keyof ArgumentChecks]>) => ({
    name: `check:${name}`,
    actions: nameSet(k.actions),
    fields: k.fields ?? [],
    onViolation: k.onViolation ?? 'kill',
  });
  const pp = c.protectedPaths;
  if (pp?.enabled) {
    const prefixes = pp.prefixes ?? [];
    checks.push({
      ...base('protectedPaths', pp),
      test: (v) => {
        // eslint-disable-next-line no-control-regex
        if (/[\u0000-\u001f\u007f]/.test(v)) return 'Path Validation Error: Control characters in path';
        const hit = prefixes.find((p) => v.startsWith(p) || normalizeSlashes(v).startsWith(p));
        return hit ? `Path Violation: Cannot access protected directory ${hit}` : null;
      },
    });
  }
  const pt = c.pathTraversal;
  if (pt?.enabled) {
    checks.push({
      ...base('pathTraversal', pt),
      test: (v) => (v.split(/[\\/]/).includes('..') ? `Path Violation: path traversal in ${v.slice(0, 200)}` : null),
    });
  }
  for (const [name, label] of [
    ['dangerousCode', 'Dangerous pattern detected'],
    ['destructiveSql', 'Destructive SQL blocked'],
  ] as const) {
    const k = c[name];
    if (!k?.enabled) continue;
    const regexes = (k.patterns ?? []).map((p) => ({ p, r: compileSafePattern(p) })).filter((x) => x.r.ok) as {
      p: string;
      r: { ok: true; regex: RegExp };
    }[];
    checks.push({
      ...base(name, k),
      test: (v) => {
        const hit = regexes.find((x) => x.r.regex.test(v));
        return hit ? `${label}: ${hit.p}` : null;
      },
    });
  }
  const ie = c.internalEndpoints;
  if (ie?.enabled) {
    const prefixes = ie.prefixes ?? [];
    checks.push({
      ...base('internalEndpoints', ie),
      test: (v) => (prefixes.some((p) => v.startsWith(p)) ? `Internal endpoint blocked: ${v.slice(0, 200)}` : null),
    });
  }
  return checks;
}

/** `/etc//passwd` and `/./etc` still start with `/etc/` once collapsed. */
function normalizeSlashes(v: string): string {
  return v.replace(/\/(\.\/)+/g, '/').replace(/\/{2,}/g, '/');
}
