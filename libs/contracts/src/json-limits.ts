/**
 * How deep a JSON value may nest anywhere in the system: request bodies, event data, policy
 * documents. JSON.parse accepts any depth, but every recursive walk after it (JSON.stringify,
 * canonicalisation, class-transformer) overflows the stack near 10,000 levels, so depth is checked
 * right after parsing, without recursion.
 */
export const MAX_JSON_DEPTH = 64;

/**
 * The nesting depth of a parsed JSON value (a scalar is 0, `[]` and `{}` are 1), or `limit + 1`
 * as soon as it is known to exceed `limit`. Iterative, so hostile depth cannot overflow the stack.
 */
export function jsonDepth(value: unknown, limit = MAX_JSON_DEPTH): number {
  if (value === null || typeof value !== 'object') return 0;
  let max = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (depth > max) {
      max = depth;
      if (max > limit) return limit + 1;
    }
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const x: unknown = v[i];
        if (x !== null && typeof x === 'object') stack.push([x, depth + 1]);
      }
    } else {
      for (const k in v as object) {
        const x = (v as Record<string, unknown>)[k];
        if (x !== null && typeof x === 'object') stack.push([x, depth + 1]);
      }
    }
  }
  return max;
}

/** Whether a parsed JSON value nests deeper than `limit`. */
export function tooDeep(value: unknown, limit = MAX_JSON_DEPTH): boolean {
  return jsonDepth(value, limit) > limit;
}
