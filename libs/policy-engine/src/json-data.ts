import type { DocumentPath, Problem } from './policy-error.js';

/**
 * Problems that make a parsed value unfit to be a policy: deeper than `maxDepth` (also catches
 * the cycles YAML aliases can build), or holding something that is not JSON data (NaN, Infinity,
 * `!!binary` buffers, strings with lone surrogates, which RFC 8785 hashing refuses). Iterative,
 * so a hostile value cannot overflow the stack here either.
 */
export function jsonDataProblems(value: unknown, maxDepth: number, maxProblems: number): Problem[] {
  const problems: Problem[] = [];
  const stack: { v: unknown; path: DocumentPath; depth: number }[] = [{ v: value, path: [], depth: 0 }];
  while (stack.length > 0 && problems.length < maxProblems) {
    const { v, path, depth } = stack.pop()!;
    if (v === null || typeof v === 'boolean') continue;
    if (typeof v === 'string') {
      if (!v.isWellFormed()) problems.push({ path, message: 'contains a lone surrogate (not valid Unicode)' });
      continue;
    }
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) problems.push({ path, message: 'must be a finite number' });
      continue;
    }
    const isArray = Array.isArray(v);
    if (!isArray && !isPlainObject(v)) {
      problems.push({ path, message: 'must be JSON data (string, number, boolean, null, list or mapping)' });
      continue;
    }
    if (depth >= maxDepth) {
      return [{ path, message: `the document is nested deeper than ${maxDepth} levels` }];
    }
    if (isArray) (v as unknown[]).forEach((x, i) => stack.push({ v: x, path: [...path, i], depth: depth + 1 }));
    else for (const [k, x] of Object.entries(v as object)) stack.push({ v: x, path: [...path, k], depth: depth + 1 });
  }
  return problems;
}

function isPlainObject(v: unknown): boolean {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}
