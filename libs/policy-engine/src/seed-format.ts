import type { Condition, Effect, PolicyDocument, PolicyRule } from './policy-document.js';
import type { DocumentPath, Problem } from './policy-error.js';

interface SeedRule {
  name: string;
  condition: { field: string; operator: string; value: unknown };
  action: 'allow' | 'deny' | 'audit' | 'block';
  priority?: number;
  message?: string;
}

interface SeedDocument {
  name?: string;
  description?: string;
  rules: SeedRule[];
  defaults?: { action?: SeedRule['action'] };
  scope?: string | null;
  tool_allowlist?: string[];
}

/** Our roots for the seed's flat context keys; any other key is read from the arguments. */
const SEED_FIELDS: Record<string, string> = {
  tool_name: 'action',
  tool: 'action',
  action: 'action',
  agent_id: 'agent.id',
  agentId: 'agent.id',
  role: 'agent.role',
  agent_role: 'agent.role',
  syscall: 'syscall',
};
const OUR_ROOTS = /^(args|context|agent)\./;

/** A document in the seed's declarative format: no apiVersion, and `version` or rules with a `condition`. */
export function isSeedFormat(v: unknown): boolean {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return false;
  const o = v as Record<string, unknown>;
  if (o.apiVersion !== undefined || !Array.isArray(o.rules)) return false;
  return 'version' in o || o.rules.some((r) => r && typeof r === 'object' && 'condition' in r);
}

/** What the seed's format can say that ours cannot honour; refused rather than dropped (fail closed). */
export function seedImportProblems(v: SeedDocument): Problem[] {
  const problems: Problem[] = [];
  if (v.scope !== undefined && v.scope !== null)
    problems.push({ path: ['scope'], message: 'folder-scoped seed policies cannot be imported' });
  if ((v.tool_allowlist ?? []).length > 0)
    problems.push({ path: ['tool_allowlist'], message: 'cannot be imported: list the tools in a role allow-list' });
  return problems;
}

/**
 * Imports the seed's declarative format, meaning what the seed's evaluator means: the first rule
 * by priority decides; `allow` and `audit` allow (every decision records the rule that made it,
 * which is the seed's audit entry), `deny` and `block` deny without killing; no match falls to
 * `defaults.action`, deny when absent (the seed's schema fails closed). The seed's flat context
 * keys become our fields: `tool_name` the action, `agent_id` the agent, anything else an argument.
 */
export function fromSeedFormat(v: SeedDocument): PolicyDocument {
  const rules: PolicyRule[] = v.rules.map((r, i) => {
    const effect: Effect = r.action === 'allow' || r.action === 'audit' ? 'allow' : 'deny';
    return {
      name: seedRuleName(r.name, i),
      ...(r.action === 'audit' ? { description: 'seed action audit: allowed, recorded under this rule' } : {}),
      priority: r.priority ?? 0,
      when: {
        field: seedField(r.condition.field),
        operator: r.condition.operator,
        value: r.condition.value,
      } as Condition,
      effect,
      ...(effect === 'deny' ? { onViolation: 'deny' as const } : {}),
      ...(r.message ? { message: r.message } : {}),
    };
  });
  const fallback = v.defaults?.action;
  return {
    apiVersion: 'agentos/v1',
    name: v.name || 'imported',
    ...(v.description ? { description: v.description } : {}),
    defaults: { action: fallback === 'allow' || fallback === 'audit' ? 'allow' : 'deny', onViolation: 'deny' },
    rules,
  };
}

/** Where a problem found in the imported document is in the seed document. */
export function seedPathOf(path: DocumentPath): DocumentPath {
  if (path[0] === 'defaults') return ['defaults', 'action'];
  if (path[0] !== 'rules' || path.length < 3) return path;
  const [, i, key, ...rest] = path;
  if (key === 'when') return ['rules', i, 'condition', ...rest];
  if (key === 'effect' || key === 'onViolation') return ['rules', i, 'action'];
  return ['rules', i, key];
}

function seedField(field: string): string {
  return SEED_FIELDS[field] ?? (OUR_ROOTS.test(field) ? field : `args.${field}`);
}

function seedRuleName(name: string, i: number): string {
  const n = name.replace(/[^A-Za-z0-9_.:-]/g, '_').slice(0, 128);
  return n || `rule-${i + 1}`;
}
