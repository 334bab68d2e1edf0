import { nameSet, type NameSet } from './name-set.js';
import type { NormalizedArgumentChecks } from './normalize-policy.js';
import type { OnViolation } from './policy-document.js';
import { normalizePosixPath } from './path-normalize.js';
import { compileSafePattern } from './safe-pattern.js';

export interface CompiledCheck {
  /** `check:<name>`, as decisions name it. */
  name: string;
  actions: NameSet;
  fields: readonly string[];
  onViolation: OnViolation;
  /** The reason when the value violates the check, else null. */
  test(value: string): string | null;
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
const TRAVERSAL = new Set(['..', '%2e%2e', '.%2e', '%2e.']);

/** The argument checks that are enabled, in a fixed order: paths, traversal, code, SQL, endpoints, custom. */
export function compileArgumentChecks(c: NormalizedArgumentChecks): CompiledCheck[] {
  const checks: CompiledCheck[] = [];
  const base = (name: string, k: { actions: string[]; fields: string[]; onViolation: OnViolation }) => ({
    name: `check:${name}`,
    actions: nameSet(k.actions),
    fields: k.fields,
    onViolation: k.onViolation,
  });

  const pp = c.protectedPaths;
  if (pp.enabled) {
    const prefixes = pp.prefixes;
    checks.push({
      ...base('protectedPaths', pp),
      test: (v) => {
        if (CONTROL.test(v)) return 'Path Validation Error: Control characters in path';
        // only paths with `//` or dot segments can mean something other than they spell
        const normalized = v.includes('//') || v.includes('/.') ? normalizePosixPath(v) : v;
        const hit = prefixes.find((p) => v.startsWith(p) || normalized.startsWith(p));
        return hit === undefined ? null : `Path Violation: Cannot access protected directory ${hit}`;
      },
    });
  }

  const pt = c.pathTraversal;
  if (pt.enabled) {
    checks.push({
      ...base('pathTraversal', pt),
      test: (v) => {
        if (!v.includes('..') && !v.includes('%')) return null;
        const traverses = v.split(/[\\/]/).some((segment) => TRAVERSAL.has(segment.toLowerCase()));
        return traverses ? `Path Violation: Path traversal in ${clip(v)}` : null;
      },
    });
  }

  for (const [name, label] of [
    ['dangerousCode', 'Dangerous pattern detected'],
    ['destructiveSql', 'Destructive SQL blocked'],
  ] as const) {
    const k = c[name];
    if (k.enabled) checks.push({ ...base(name, k), test: patternTest(k.patterns, (p) => `${label}: ${p}`) });
  }

  const ie = c.internalEndpoints;
  if (ie.enabled) {
    const prefixes = ie.prefixes;
    checks.push({
      ...base('internalEndpoints', ie),
      test: (v) => (prefixes.some((p) => v.startsWith(p)) ? `Internal endpoint blocked: ${clip(v)}` : null),
    });
  }

  for (const custom of c.custom ?? []) {
    const reason = (p: string) => custom.message || `Argument matches blocked pattern ${p} (${custom.name})`;
    checks.push({ ...base(custom.name, custom), test: patternTest(custom.patterns, reason) });
  }
  return checks;
}

/** The first pattern (case-insensitive, anywhere in the value) that matches names the reason. */
function patternTest(patterns: readonly string[], reason: (pattern: string) => string): (v: string) => string | null {
  const compiled: { source: string; regex: RegExp }[] = [];
  for (const source of patterns) {
    const r = compileSafePattern(source, 'i');
    if (r.ok) compiled.push({ source, regex: r.regex });
  }
  return (v) => {
    for (let i = 0; i < compiled.length; i++) if (compiled[i].regex.test(v)) return reason(compiled[i].source);
    return null;
  };
}

/** Arguments are the agent's: keep what goes into a reason short. */
function clip(v: string): string {
  return v.length > 200 ? `${v.slice(0, 200)}…` : v;
}
