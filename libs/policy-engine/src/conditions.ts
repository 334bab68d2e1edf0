import type { Condition } from './policy-document.js';
import { compileSafePattern } from './safe-pattern.js';

export type Predicate = (ctx: Record<string, unknown>) => boolean;

/**
 * A condition as a function over the evaluation context. Fields are dotted paths; a missing
 * attribute (or one of the wrong type for the operator) makes the comparison false, as in the
 * seed, so `not` of a missing attribute is true.
 */
export function compileCondition(c: Condition): Predicate {
  if ('all' in c) {
    const parts = c.all.map(compileCondition);
    return (ctx) => parts.every((p) => p(ctx));
  }
  if ('any' in c) {
    const parts = c.any.map(compileCondition);
    return (ctx) => parts.some((p) => p(ctx));
  }
  if ('not' in c) {
    const inner = compileCondition(c.not);
    return (ctx) => !inner(ctx);
  }
  const path = c.field.split('.');
  const get = (ctx: Record<string, unknown>): unknown => {
    let v: unknown = ctx;
    for (const k of path) {
      if (v === null || typeof v !== 'object' || !Object.prototype.hasOwnProperty.call(v, k)) return undefined;
      v = (v as Record<string, unknown>)[k];
    }
    return v;
  };
  const want = c.value;
  switch (c.operator) {
    case 'eq':
      return (ctx) => present(get(ctx), (v) => equal(v, want));
    case 'ne':
      return (ctx) => present(get(ctx), (v) => !equal(v, want));
    case 'gt':
      return (ctx) => present(get(ctx), (v) => comparable(v, want) && (v as number) > (want as number));
    case 'lt':
      return (ctx) => present(get(ctx), (v) => comparable(v, want) && (v as number) < (want as number));
    case 'gte':
      return (ctx) => present(get(ctx), (v) => comparable(v, want) && (v as number) >= (want as number));
    case 'lte':
      return (ctx) => present(get(ctx), (v) => comparable(v, want) && (v as number) <= (want as number));
    case 'in': {
      const list = Array.isArray(want) ? want : [];
      return (ctx) => present(get(ctx), (v) => list.some((x) => equal(v, x)));
    }
    case 'not_in': {
      const list = Array.isArray(want) ? want : [];
      return (ctx) => present(get(ctx), (v) => !list.some((x) => equal(v, x)));
    }
    case 'contains':
      return (ctx) =>
        present(get(ctx), (v) =>
          typeof v === 'string'
            ? typeof want === 'string' && v.includes(want)
            : Array.isArray(v)
              ? v.some((x) => equal(x, want))
              : false,
        );
    case 'matches': {
      const r = compileSafePattern(want, '');
      const regex = r.ok ? r.regex : null;
      return (ctx) => present(get(ctx), (v) => regex !== null && typeof v === 'string' && regex.test(v));
    }
  }
}

function present(v: unknown, test: (v: unknown) => boolean): boolean {
  return v === undefined || v === null ? false : test(v);
}

function comparable(a: unknown, b: unknown): boolean {
  return (typeof a === 'number' && typeof b === 'number') || (typeof a === 'string' && typeof b === 'string');
}

function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}
