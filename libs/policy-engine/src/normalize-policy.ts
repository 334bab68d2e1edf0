import canonicalize from 'canonicalize';
import { DEFAULT_ARGUMENT_CHECKS, type DefaultArgumentChecks } from './default-argument-checks.js';
import type {
  AllowEntry,
  Condition,
  CustomArgumentCheck,
  Effect,
  OnViolation,
  PolicyDocument,
} from './policy-document.js';

export interface NormalizedRule {
  name: string;
  description: string;
  priority: number;
  match: { actions: string[]; roles: string[]; agents: string[] };
  when?: Condition;
  effect: Effect;
  onViolation: OnViolation;
  message: string;
}

export interface NormalizedRateLimit {
  name: string;
  match: { actions: string[]; roles: string[] };
  perMinute?: number;
  perHour?: number;
  onViolation: OnViolation;
  message: string;
}

export interface NormalizedRole {
  allow: AllowEntry[];
  context: Record<string, unknown>;
  /** Only when the document denies something (so documents written before `deny` existed hash as before). */
  deny?: string[];
}

export type NormalizedArgumentChecks = DefaultArgumentChecks & {
  custom?: (Required<Omit<CustomArgumentCheck, 'message'>> & { message: string })[];
};

/**
 * The document with every default written out and every set-like list sorted: what was meant,
 * however it was written. The content hash is taken over this, so two documents that mean the
 * same thing hash the same; it is also a valid document (normalising it again changes nothing).
 */
export interface NormalizedPolicy {
  apiVersion: 'agentos/v1';
  name: string;
  description: string;
  defaults: { effect: Effect; onViolation: OnViolation };
  roles: Record<string, NormalizedRole>;
  rules: NormalizedRule[];
  argumentChecks: NormalizedArgumentChecks;
  rateLimits: NormalizedRateLimit[];
}

export function normalizePolicy(d: PolicyDocument): NormalizedPolicy {
  const defaults = {
    effect: d.defaults?.action ?? d.defaults?.effect ?? ('deny' as Effect),
    onViolation: d.defaults?.onViolation ?? ('kill' as OnViolation),
  };
  return {
    apiVersion: 'agentos/v1',
    name: d.name,
    description: d.description ?? '',
    defaults,
    roles: Object.fromEntries(
      Object.entries(d.roles ?? {}).map(([role, r]) => {
        const deny = nameSet(r.deny ?? []);
        const normalized: NormalizedRole = { allow: allowList(r.allow ?? []), context: r.context ?? {} };
        if (deny.length > 0) normalized.deny = deny;
        return [role, normalized];
      }),
    ),
    rules: (d.rules ?? []).map((r) => ({
      name: r.name,
      description: r.description ?? '',
      priority: r.priority ?? 0,
      match: { actions: anySet(r.match?.actions), roles: anySet(r.match?.roles), agents: anySet(r.match?.agents) },
      ...(r.when ? { when: r.when } : {}),
      effect: r.effect,
      onViolation: r.onViolation ?? defaults.onViolation,
      message: r.message ?? '',
    })),
    argumentChecks: argumentChecks(d),
    rateLimits: (d.rateLimits ?? []).map((l) => ({
      name: l.name,
      match: { actions: anySet(l.match?.actions), roles: anySet(l.match?.roles) },
      ...(l.perMinute !== undefined ? { perMinute: l.perMinute } : {}),
      ...(l.perHour !== undefined ? { perHour: l.perHour } : {}),
      onViolation: l.onViolation ?? 'deny',
      message: l.message ?? '',
    })),
  };
}

function argumentChecks(d: PolicyDocument): NormalizedArgumentChecks {
  const given = d.argumentChecks ?? {};
  const merged = <K extends keyof DefaultArgumentChecks>(k: K): DefaultArgumentChecks[K] => {
    const c = { ...DEFAULT_ARGUMENT_CHECKS[k], ...(given[k] ?? {}) };
    c.actions = anySet(c.actions);
    c.fields = nameSet(c.fields);
    if ('prefixes' in c) c.prefixes = nameSet(c.prefixes as string[]);
    return c;
  };
  const checks: NormalizedArgumentChecks = {
    protectedPaths: merged('protectedPaths'),
    pathTraversal: merged('pathTraversal'),
    dangerousCode: merged('dangerousCode'),
    destructiveSql: merged('destructiveSql'),
    internalEndpoints: merged('internalEndpoints'),
  };
  if (given.custom && given.custom.length > 0) {
    checks.custom = given.custom.map((c) => ({
      name: c.name,
      actions: anySet(c.actions),
      fields: nameSet(c.fields),
      patterns: c.patterns,
      onViolation: c.onViolation ?? 'kill',
      message: c.message ?? '',
    }));
  }
  return checks;
}

/** Sorted, without repeats: the order of a set of names means nothing. */
function nameSet(list: readonly string[]): string[] {
  return [...new Set(list)].sort();
}

/** A set where `*` (or no list at all) means any name: `[a, *]` is `[*]`. */
function anySet(list: readonly string[] | undefined): string[] {
  return !list || list.includes('*') ? ['*'] : nameSet(list);
}

/** Plain actions as a set; conditional entries after them in a fixed order (they combine with AND). */
function allowList(entries: readonly AllowEntry[]): AllowEntry[] {
  const plain = entries.filter((e): e is string => typeof e === 'string');
  const conditional = entries
    .filter((e): e is Exclude<AllowEntry, string> => typeof e !== 'string')
    .map((e) => ({ entry: e, key: `${e.action}\u0000${canonicalize(e.when)}` }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .filter((e, i, all) => i === 0 || all[i - 1].key !== e.key)
    .map((e) => e.entry);
  return [...(plain.includes('*') ? ['*'] : nameSet(plain)), ...conditional];
}
