import type { Condition, PolicyDocument } from './policy-document.js';
import type { DocumentPath, Problem } from './policy-error.js';
import { compileSafePattern } from './safe-pattern.js';

/** Names the engine gives its own deciders (`check:…`, `rate:…`, `role:…`, `defaults`). */
const RESERVED = /^(check:|rate:|role:|defaults$)/;
const BUILTIN_CHECKS = ['protectedPaths', 'pathTraversal', 'dangerousCode', 'destructiveSql', 'internalEndpoints'];
const ORDERED = new Set(['gt', 'lt', 'gte', 'lte']);

/**
 * What the schema cannot say, checked on a document the schema accepted: unique names, every
 * regular expression safe, operators given values they can compare, one name for the default.
 */
export function semanticProblems(d: PolicyDocument): Problem[] {
  const problems: Problem[] = [];
  if (d.defaults?.action !== undefined && d.defaults.effect !== undefined)
    problems.push({
      path: ['defaults', 'effect'],
      at: 'key',
      message: 'give defaults.action or defaults.effect, not both',
    });

  const ruleNames = new Map<string, number>();
  (d.rules ?? []).forEach((r, i) => {
    const first = ruleNames.get(r.name);
    if (first !== undefined)
      problems.push({
        path: ['rules', i, 'name'],
        message: `duplicate rule name '${r.name}' (first at rules[${first}])`,
      });
    else ruleNames.set(r.name, i);
    if (RESERVED.test(r.name))
      problems.push({ path: ['rules', i, 'name'], message: `'${r.name}' is reserved for the engine's own decisions` });
    if (r.when) conditionProblems(r.when, ['rules', i, 'when'], problems);
  });

  for (const [role, rp] of Object.entries(d.roles ?? {})) {
    (rp.allow ?? []).forEach((a, i) => {
      if (typeof a === 'object') conditionProblems(a.when, ['roles', role, 'allow', i, 'when'], problems);
    });
  }

  const limitNames = new Set<string>();
  (d.rateLimits ?? []).forEach((l, i) => {
    if (limitNames.has(l.name))
      problems.push({ path: ['rateLimits', i, 'name'], message: `duplicate rate limit name '${l.name}'` });
    limitNames.add(l.name);
    if (l.perMinute === undefined && l.perHour === undefined)
      problems.push({ path: ['rateLimits', i], message: 'needs perMinute or perHour' });
  });

  const checks = d.argumentChecks ?? {};
  for (const name of ['dangerousCode', 'destructiveSql'] as const) {
    (checks[name]?.patterns ?? []).forEach((p, i) =>
      patternProblem(p, 'i', ['argumentChecks', name, 'patterns', i], problems),
    );
  }
  const customNames = new Set<string>(BUILTIN_CHECKS);
  (checks.custom ?? []).forEach((c, i) => {
    if (customNames.has(c.name))
      problems.push({ path: ['argumentChecks', 'custom', i, 'name'], message: `duplicate check name '${c.name}'` });
    customNames.add(c.name);
    c.patterns.forEach((p, j) => patternProblem(p, 'i', ['argumentChecks', 'custom', i, 'patterns', j], problems));
  });
  return problems;
}

function conditionProblems(c: Condition, path: DocumentPath, problems: Problem[]): void {
  if ('all' in c) return c.all.forEach((x, i) => conditionProblems(x, [...path, 'all', i], problems));
  if ('any' in c) return c.any.forEach((x, i) => conditionProblems(x, [...path, 'any', i], problems));
  if ('not' in c) return conditionProblems(c.not, [...path, 'not'], problems);
  const at = [...path, 'value'];
  const v = c.value;
  if ((c.operator === 'in' || c.operator === 'not_in') && !Array.isArray(v))
    problems.push({ path: at, message: `operator ${c.operator} needs a list` });
  if (ORDERED.has(c.operator) && typeof v !== 'number' && typeof v !== 'string')
    problems.push({ path: at, message: `operator ${c.operator} needs a number or a string` });
  if (c.operator === 'matches') patternProblem(v, '', at, problems);
}

function patternProblem(source: unknown, flags: string, path: DocumentPath, problems: Problem[]): void {
  const r = compileSafePattern(source, flags);
  if (!r.ok) problems.push({ path, message: r.message });
}
