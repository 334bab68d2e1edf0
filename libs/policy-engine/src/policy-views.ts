import type { CompiledPolicy } from './compile-policy.js';
import type { NormalizedPolicy } from './normalize-policy.js';

/** What SYS_GETPOLICY shows an agent: its allow-list, the rules and limits that can apply to it. */
export function matchingRulesFor(p: CompiledPolicy, role: string, action?: string): Record<string, unknown>[] {
  const n = p.normalized;
  const applies = (list: string[]) => list.includes('*') || (action !== undefined ? list.includes(action) : true);
  const forRole = (list: string[]) => list.includes('*') || list.includes(role);
  const out: Record<string, unknown>[] = [];
  const r = n.roles[role];
  if (r) {
    const allow = r.allow.filter((a) => (typeof a === 'string' ? applies([a]) : applies([a.action])));
    if (allow.length) out.push({ kind: 'allow', role, allow });
  }
  for (const rule of n.rules) {
    if (forRole(rule.match.roles) && applies(rule.match.actions)) out.push({ kind: 'rule', ...rule });
  }
  for (const l of n.rateLimits) {
    if (forRole(l.match.roles) && applies(l.match.actions)) out.push({ kind: 'rateLimit', ...l });
  }
  out.push({ kind: 'defaults', ...n.defaults });
  return out;
}

interface Changes<T> {
  added: T[];
  removed: string[];
  changed: { name: string; from: unknown; to: unknown }[];
}

export interface PolicyDiff {
  name?: { from: string; to: string };
  defaults?: { from: unknown; to: unknown };
  roles: Changes<{ name: string; allow: unknown[] }>;
  rules: Changes<{ name: string }>;
  rateLimits: Changes<{ name: string }>;
  argumentChecks: { name: string; from: unknown; to: unknown }[];
  identical: boolean;
}

/** A structured difference between two (normalised) policies, by name. */
export function diffPolicies(a: NormalizedPolicy, b: NormalizedPolicy): PolicyDiff {
  const same = (x: unknown, y: unknown) => JSON.stringify(x) === JSON.stringify(y);
  const byName = <T extends { name: string }>(xs: T[], ys: T[]): Changes<T> => {
    const ma = new Map(xs.map((x) => [x.name, x]));
    const mb = new Map(ys.map((y) => [y.name, y]));
    return {
      added: ys.filter((y) => !ma.has(y.name)),
      removed: xs.filter((x) => !mb.has(x.name)).map((x) => x.name),
      changed: ys
        .filter((y) => ma.has(y.name) && !same(ma.get(y.name), y))
        .map((y) => ({ name: y.name, from: ma.get(y.name), to: y })),
    };
  };
  const roles = (p: NormalizedPolicy) => Object.entries(p.roles).map(([name, r]) => ({ name, ...r }));
  const checks = (Object.keys(b.argumentChecks) as (keyof typeof b.argumentChecks)[])
    .filter((k) => !same(a.argumentChecks[k], b.argumentChecks[k]))
    .map((k) => ({ name: k, from: a.argumentChecks[k], to: b.argumentChecks[k] }));
  const diff: PolicyDiff = {
    ...(a.name !== b.name ? { name: { from: a.name, to: b.name } } : {}),
    ...(!same(a.defaults, b.defaults) ? { defaults: { from: a.defaults, to: b.defaults } } : {}),
    roles: byName(roles(a), roles(b)),
    rules: byName(a.rules, b.rules),
    rateLimits: byName(a.rateLimits, b.rateLimits),
    argumentChecks: checks,
    identical: false,
  };
  diff.identical =
    !diff.name &&
    !diff.defaults &&
    [diff.roles, diff.rules, diff.rateLimits].every((c) => !c.added.length && !c.removed.length && !c.changed.length) &&
    !checks.length;
  return diff;
}
