import type { Condition, OnViolation, PolicyDocument, PolicyRule } from './policy-document.js';

interface SeedRule {
  name?: unknown;
  condition?: { field?: unknown; operator?: unknown; value?: unknown };
  action?: unknown;
  priority?: unknown;
  message?: unknown;
}

/** Whether a parsed document is in the seed's declarative format (`version`, `rules[].condition`). */
export function isSeedFormat(v: unknown): boolean {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return false;
  const o = v as Record<string, unknown>;
  return (
    o.apiVersion === undefined &&
    'rules' in o &&
    Array.isArray(o.rules) &&
    ('version' in o || o.rules.some((r) => r && typeof r === 'object' && 'condition' in r))
  );
}

/**
 * Imports the seed's later declarative format: `rules: [{name, condition: {field, operator,
 * value}, action: allow|deny|audit|block, priority, message}]`, `defaults.action`. `block` and
 * `deny` refuse (deny), `audit` allows and records (shadow). Fields are read from `args` first
 * when they are not already dotted paths, as the seed's evaluator saw the tool arguments.
 */
export function fromSeedFormat(v: Record<string, unknown>): PolicyDocument {
  const defaults = (v.defaults ?? {}) as { action?: unknown };
  const rules: PolicyRule[] = ((v.rules as SeedRule[]) ?? []).map((r, i) => {
    const action = String(r.action ?? 'deny');
    const effect = action === 'allow' || action === 'audit' ? (action === 'allow' ? 'allow' : 'deny') : 'deny';
    const onViolation: OnViolation = action === 'audit' ? 'audit' : 'deny';
    const c = r.condition ?? {};
    const field = typeof c.field === 'string' && c.field.includes('.') ? c.field : `args.${String(c.field ?? '')}`;
    const rule: PolicyRule = {
      name:
        typeof r.name === 'string' && r.name ? r.name.replace(/[^A-Za-z0-9_.:-]/g, '_').slice(0, 128) : `rule-${i + 1}`,
      priority: Number.isInteger(r.priority) ? (r.priority as number) : 0,
      when: {
        field,
        operator: c.operator as Condition extends { operator: infer O } ? O : never,
        value: c.value,
      } as Condition,
      effect,
      onViolation,
      ...(typeof r.message === 'string' ? { message: r.message } : {}),
    };
    return rule;
  });
  return {
    apiVersion: 'agentos/v1',
    name: typeof v.name === 'string' && v.name ? v.name : 'imported',
    ...(typeof v.description === 'string' ? { description: v.description } : {}),
    // the seed allows by default unless defaults.action says otherwise
    defaults: {
      effect: defaults.action === 'deny' || defaults.action === 'block' ? 'deny' : 'allow',
      onViolation: 'deny',
    },
    rules,
  };
}
