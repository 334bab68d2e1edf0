import type { CompiledPolicy } from './compile-policy.js';
import type { NormalizedRule } from './normalize-policy.js';

/**
 * What SYS_GETPOLICY shows an agent: its role's allow- and deny-list, the rules and rate limits
 * that can apply to it (in decision order), and the defaults. With `action`, only what concerns
 * that action; with `agentId`, rules written for other agents are left out.
 */
export function matchingRulesFor(
  p: CompiledPolicy,
  role: string,
  action?: string,
  agentId?: string,
): Record<string, unknown>[] {
  const n = p.normalized;
  const concerns = (actions: readonly string[]) =>
    action === undefined || actions.includes('*') || actions.includes(action);
  const applies = (names: readonly string[], name: string | undefined) =>
    name === undefined || names.includes('*') || names.includes(name);
  const out: Record<string, unknown>[] = [];
  // roles is a plain object parsed from the document: only its own keys are roles
  const r = Object.hasOwn(n.roles, role) ? n.roles[role] : undefined;
  if (r) {
    const allow = r.allow.filter((a) => concerns([typeof a === 'string' ? a : a.action]));
    if (allow.length > 0) out.push({ kind: 'allow', role, allow });
    const deny = (r.deny ?? []).filter((a) => concerns([a]));
    if (deny.length > 0) out.push({ kind: 'deny', role, deny });
  }
  const ruleOrder = (a: NormalizedRule, b: NormalizedRule) =>
    b.priority - a.priority || (a.effect === b.effect ? 0 : a.effect === 'deny' ? -1 : 1);
  const rules = n.rules
    .filter((x) => applies(x.match.roles, role) && applies(x.match.agents, agentId) && concerns(x.match.actions))
    .sort(ruleOrder); // stable: document order breaks the remaining ties
  for (const rule of rules) out.push({ kind: 'rule', ...rule });
  for (const l of n.rateLimits) {
    if (applies(l.match.roles, role) && concerns(l.match.actions)) out.push({ kind: 'rateLimit', ...l });
  }
  out.push({ kind: 'defaults', ...n.defaults });
  return out;
}
