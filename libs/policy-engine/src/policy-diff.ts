import { jsonEqual } from './json-equal.js';
import { normalizePolicy, type NormalizedPolicy, type NormalizedRole } from './normalize-policy.js';
import type { PolicyDocument } from './policy-document.js';

export interface NamedChange {
  name: string;
  /** The fields that differ (`priority`, `when`, `allow`, ...). */
  fields: string[];
  from: unknown;
  to: unknown;
}

export interface Changes<T> {
  added: T[];
  removed: string[];
  changed: NamedChange[];
}

export interface PolicyDiff {
  name?: { from: string; to: string };
  description?: { from: string; to: string };
  defaults?: { from: NormalizedPolicy['defaults']; to: NormalizedPolicy['defaults'] };
  roles: Changes<NormalizedRole & { name: string }>;
  rules: Changes<NormalizedPolicy['rules'][number]>;
  /** Rules kept in both whose document order changed (it breaks ties between equal priorities). */
  ruleOrder?: { from: string[]; to: string[] };
  rateLimits: Changes<NormalizedPolicy['rateLimits'][number]>;
  /** Argument checks whose settings differ, by check name (`custom` for the custom list). */
  argumentChecks: NamedChange[];
  /** Whether the two mean the same (their content hashes are equal). */
  identical: boolean;
}

/**
 * What changed from `a` to `b`, by name, after normalising both (so formatting, key order and
 * spelled-out defaults are no change). Documents or normalised policies are both accepted.
 */
export function diffPolicies(a: PolicyDocument | NormalizedPolicy, b: PolicyDocument | NormalizedPolicy): PolicyDiff {
  const na = normalizePolicy(a);
  const nb = normalizePolicy(b);
  const roles = (p: NormalizedPolicy) => Object.entries(p.roles).map(([name, r]) => ({ name, ...r }));
  const checkNames = [...new Set([...Object.keys(na.argumentChecks), ...Object.keys(nb.argumentChecks)])].sort();
  const checks = checkNames
    .map((k) => {
      const from = (na.argumentChecks as unknown as Record<string, unknown>)[k];
      const to = (nb.argumentChecks as unknown as Record<string, unknown>)[k];
      return { name: k, fields: changedFields(from, to), from: from ?? null, to: to ?? null };
    })
    .filter((c) => c.fields.length > 0);
  const diff: PolicyDiff = {
    ...(na.name !== nb.name ? { name: { from: na.name, to: nb.name } } : {}),
    ...(na.description !== nb.description ? { description: { from: na.description, to: nb.description } } : {}),
    ...(!jsonEqual(na.defaults, nb.defaults) ? { defaults: { from: na.defaults, to: nb.defaults } } : {}),
    roles: byName(roles(na), roles(nb)),
    rules: byName(na.rules, nb.rules),
    ...ruleOrder(na, nb),
    rateLimits: byName(na.rateLimits, nb.rateLimits),
    argumentChecks: checks,
    identical: false,
  };
  diff.identical =
    !diff.name &&
    !diff.description &&
    !diff.defaults &&
    !diff.ruleOrder &&
    [diff.roles, diff.rules, diff.rateLimits].every((c) => !c.added.length && !c.removed.length && !c.changed.length) &&
    checks.length === 0;
  return diff;
}

function byName<T extends { name: string }>(xs: readonly T[], ys: readonly T[]): Changes<T> {
  const before = new Map(xs.map((x) => [x.name, x]));
  const after = new Map(ys.map((y) => [y.name, y]));
  return {
    added: ys.filter((y) => !before.has(y.name)),
    removed: xs.filter((x) => !after.has(x.name)).map((x) => x.name),
    changed: ys
      .filter((y) => before.has(y.name))
      .map((y) => ({ name: y.name, fields: changedFields(before.get(y.name), y), from: before.get(y.name), to: y }))
      .filter((c) => c.fields.length > 0),
  };
}

function ruleOrder(a: NormalizedPolicy, b: NormalizedPolicy): Pick<PolicyDiff, 'ruleOrder'> {
  const inB = new Set(b.rules.map((r) => r.name));
  const inA = new Set(a.rules.map((r) => r.name));
  const from = a.rules.map((r) => r.name).filter((n) => inB.has(n));
  const to = b.rules.map((r) => r.name).filter((n) => inA.has(n));
  return jsonEqual(from, to) ? {} : { ruleOrder: { from, to } };
}

/** The top-level fields of two records that differ (`*` when they are not both records). */
function changedFields(a: unknown, b: unknown): string[] {
  if (a === undefined || b === undefined || a === null || b === null || typeof a !== 'object' || typeof b !== 'object')
    return jsonEqual(a, b) ? [] : ['*'];
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return keys.filter((k) => !jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
