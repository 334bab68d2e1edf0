import { compileFieldGetter, type FieldGetter } from './field-access.js';
import { jsonEqual } from './json-equal.js';
import type { PolicyRequest } from './policy-decision.js';
import type { Condition, FieldCondition } from './policy-document.js';
import { compileSafePattern } from './safe-pattern.js';

export type Predicate = (req: PolicyRequest, roleContext: Readonly<Record<string, unknown>>) => boolean;

const NEVER: Predicate = () => false;

/**
 * A condition as a function of the request. As in the seed, a missing attribute (undefined or
 * null) makes every comparison false, `ne` and `not_in` included; so `not` of one is true.
 * Ordering operators compare numbers with numbers and strings with strings, nothing else.
 */
export function compileCondition(c: Condition): Predicate {
  if ('all' in c) {
    const parts = c.all.map(compileCondition);
    return (req, rc) => {
      for (let i = 0; i < parts.length; i++) if (!parts[i](req, rc)) return false;
      return true;
    };
  }
  if ('any' in c) {
    const parts = c.any.map(compileCondition);
    return (req, rc) => {
      for (let i = 0; i < parts.length; i++) if (parts[i](req, rc)) return true;
      return false;
    };
  }
  if ('not' in c) {
    const inner = compileCondition(c.not);
    return (req, rc) => !inner(req, rc);
  }
  return compileComparison(c);
}

function compileComparison(c: FieldCondition): Predicate {
  const get = compileFieldGetter(c.field);
  const want = c.value;
  switch (c.operator) {
    case 'eq':
      return present(get, (v) => jsonEqual(v, want));
    case 'ne':
      return present(get, (v) => !jsonEqual(v, want));
    case 'gt':
      return ordered(get, want, (v, w) => v > w);
    case 'lt':
      return ordered(get, want, (v, w) => v < w);
    case 'gte':
      return ordered(get, want, (v, w) => v >= w);
    case 'lte':
      return ordered(get, want, (v, w) => v <= w);
    case 'in': {
      const member = membership(want);
      return present(get, member);
    }
    case 'not_in': {
      const member = membership(want);
      return present(get, (v) => !member(v));
    }
    case 'contains':
      return present(get, (v) => {
        if (typeof v === 'string') return typeof want === 'string' && v.includes(want);
        if (Array.isArray(v)) return v.some((x) => jsonEqual(x, want));
        // a mapping contains its keys, as Python's `in` on a dict
        return typeof v === 'object' && typeof want === 'string' && Object.hasOwn(v as object, want);
      });
    case 'matches': {
      const r = compileSafePattern(want, '');
      if (!r.ok) return NEVER; // refused when the document was parsed; never reached from a valid one
      const regex = r.regex;
      return present(get, (v) => typeof v === 'string' && regex.test(v));
    }
    default:
      return NEVER;
  }
}

function present(get: FieldGetter, test: (v: unknown) => boolean): Predicate {
  return (req, rc) => {
    const v = get(req, rc);
    return v !== undefined && v !== null && test(v);
  };
}

function ordered(
  get: FieldGetter,
  want: unknown,
  compare: (v: number | string, w: number | string) => boolean,
): Predicate {
  const kind = typeof want;
  if (kind !== 'number' && kind !== 'string') return NEVER;
  return (req, rc) => {
    const v = get(req, rc);
    return typeof v === kind && compare(v as number | string, want as number | string);
  };
}

/** Membership in a list: a Set for primitives, a structural scan for the rest. */
function membership(list: unknown): (v: unknown) => boolean {
  if (!Array.isArray(list)) return () => false;
  const primitives = new Set(list.filter((x) => x === null || typeof x !== 'object'));
  const structured = list.filter((x) => x !== null && typeof x === 'object');
  if (structured.length === 0) return (v) => primitives.has(v);
  return (v) => primitives.has(v) || structured.some((x) => jsonEqual(v, x));
}
