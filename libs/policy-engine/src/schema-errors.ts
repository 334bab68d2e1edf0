import type { ErrorObject } from 'ajv';
import type { DocumentPath, Problem } from './policy-error.js';

/** Keywords that only say "one of the alternatives failed"; the alternative's own errors say which field. */
const SUMMARY_KEYWORDS = new Set(['if', 'oneOf', 'anyOf', 'propertyNames']);

/** ajv's errors as located problems, one per field and message, in words an operator reads. */
export function schemaProblems(errors: readonly ErrorObject[]): Problem[] {
  const problems: Problem[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    if (SUMMARY_KEYWORDS.has(e.keyword)) continue;
    const p = problem(e);
    const key = `${p.path.join('\u0000')}\u0001${p.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push(p);
  }
  return problems;
}

function problem(e: ErrorObject): Problem {
  const path = pointerPath(e.instancePath);
  const params = e.params as Record<string, unknown>;
  if (e.propertyName !== undefined) {
    return { path: [...path, e.propertyName], at: 'key', message: `'${e.propertyName}' is not a valid name` };
  }
  switch (e.keyword) {
    case 'additionalProperties':
      return { path: [...path, String(params.additionalProperty)], at: 'key', message: 'unknown field' };
    case 'required':
      return { path: [...path, String(params.missingProperty)], locateAt: path, message: 'is required' };
    case 'enum':
      return { path, message: `must be one of ${(params.allowedValues as unknown[]).map(quote).join(', ')}` };
    case 'const':
      return { path, message: `must be ${quote(params.allowedValue)}` };
    case 'type':
      return { path, message: `must be ${article(String(params.type))} ${String(params.type)}` };
    case 'maxItems':
    case 'maxProperties':
      return { path, message: `has more than ${String(params.limit)} entries` };
    case 'minItems':
      return { path, message: `needs at least ${String(params.limit)} entries` };
    case 'maxLength':
      return { path, message: `is longer than ${String(params.limit)} characters` };
    case 'minLength':
      return { path, message: 'must not be empty' };
    case 'pattern':
      return { path, message: `must match ${String(params.pattern)}` };
    case 'minimum':
      return { path, message: `must be at least ${String(params.limit)}` };
    case 'maximum':
      return { path, message: `must be at most ${String(params.limit)}` };
    default:
      return { path, message: e.message ?? 'is invalid' };
  }
}

function pointerPath(pointer: string): DocumentPath {
  if (pointer === '') return [];
  return pointer
    .split('/')
    .slice(1)
    .map((s) => {
      const v = s.replace(/~1/g, '/').replace(/~0/g, '~');
      return /^(0|[1-9]\d*)$/.test(v) ? Number(v) : v;
    });
}

function quote(v: unknown): string {
  return JSON.stringify(v);
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? 'an' : 'a';
}
