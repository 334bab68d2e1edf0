import canonicalize from 'canonicalize';

/**
 * The canonical form every hash in the log is computed over: RFC 8785 (JSON Canonicalization
 * Scheme). Keys sorted by UTF-16 code units, no insignificant whitespace, numbers in their shortest
 * ECMAScript form, strings escaped as JSON.stringify does. Stored as text and never re-serialised,
 * so the bytes that were hashed are the bytes that are kept.
 *
 * Plain JSON data (what JSON.parse returns) takes a fast iterative path; anything else (toJSON,
 * class instances, boxed scalars, undefined members, non-finite numbers, lone surrogates, cycles)
 * is handed to the `canonicalize` package, so every such case behaves exactly as it does there.
 * The unit test checks equality with `canonicalize` on randomized values.
 */
export function toCanonicalJson(value: unknown): string {
  const fast = plainCanonicalJson(value);
  if (fast !== undefined) return fast;
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError('value has no JSON representation');
  return text;
}

/** Beyond this depth the fast path gives up (a cycle, or a value no event can be): canonicalize decides. */
const FAST_MAX_DEPTH = 1000;

interface Frame {
  /** The array, or the object whose sorted keys are `keys`. */
  container: unknown[] | Record<string, unknown>;
  keys: string[] | null;
  index: number;
}

const OBJECT_PROTOTYPE = Object.prototype;

/** What JSON.stringify escapes (plus any surrogate, which must be checked for pairing). */
// eslint-disable-next-line no-control-regex -- control characters are exactly what must be escaped
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** Quoted object keys: events of one type repeat the same few keys. Short keys only, bounded. */
const quotedKeys = new Map<string, string>();
const QUOTED_KEYS_MAX = 4096;
const QUOTED_KEY_MAX_LENGTH = 64;

/**
 * RFC 8785 text of plain JSON data, iteratively (no recursion, whatever the depth), or undefined
 * when the value holds anything but plain objects, arrays, well-formed strings, finite numbers,
 * booleans and null.
 */
export function plainCanonicalJson(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') return scalar(value);
  const root = frameOf(value);
  if (root === undefined) return undefined;
  let out = root.keys === null ? '[' : '{';
  const stack: Frame[] = [root];
  outer: while (stack.length > 0) {
    const frame = stack[stack.length - 1];
    const keys = frame.keys;
    if (keys === null) {
      const array = frame.container as unknown[];
      while (frame.index < array.length) {
        const i = frame.index++;
        if (i > 0) out += ',';
        const v = array[i];
        if (v === null || typeof v !== 'object') {
          const s = scalar(v);
          if (s === undefined) return undefined;
          out += s;
          continue;
        }
        const child = frameOf(v);
        if (child === undefined || stack.length >= FAST_MAX_DEPTH) return undefined;
        out += child.keys === null ? '[' : '{';
        stack.push(child);
        continue outer;
      }
      out += ']';
    } else {
      const object = frame.container as Record<string, unknown>;
      while (frame.index < keys.length) {
        const i = frame.index++;
        const key = keys[i];
        const quoted = quoteKey(key);
        if (quoted === undefined) return undefined;
        const v = object[key];
        if (i > 0) out += ',';
        out += quoted;
        out += ':';
        if (v === null || typeof v !== 'object') {
          const s = scalar(v);
          if (s === undefined) return undefined;
          out += s;
          continue;
        }
        const child = frameOf(v);
        if (child === undefined || stack.length >= FAST_MAX_DEPTH) return undefined;
        out += child.keys === null ? '[' : '{';
        stack.push(child);
        continue outer;
      }
      out += '}';
    }
    stack.pop();
  }
  return out;
}

function frameOf(v: object): Frame | undefined {
  if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return undefined;
  if (Array.isArray(v)) return { container: v, keys: null, index: 0 };
  const proto: unknown = Object.getPrototypeOf(v);
  if (proto !== OBJECT_PROTOTYPE && proto !== null) return undefined;
  const keys = Object.keys(v);
  // the default order compares UTF-16 code units, which is the order RFC 8785 requires
  if (keys.length > 1) keys.sort();
  return { container: v as Record<string, unknown>, keys, index: 0 };
}

/** JSON.stringify's quoting of a well-formed string, or undefined for a lone surrogate. */
function quote(s: string): string | undefined {
  if (!NEEDS_ESCAPE.test(s)) return '"' + s + '"';
  return s.isWellFormed() ? JSON.stringify(s) : undefined;
}

function quoteKey(key: string): string | undefined {
  if (key.length > QUOTED_KEY_MAX_LENGTH) return quote(key);
  let quoted = quotedKeys.get(key);
  if (quoted === undefined) {
    quoted = quote(key);
    if (quoted === undefined) return undefined;
    if (quotedKeys.size >= QUOTED_KEYS_MAX) quotedKeys.clear();
    quotedKeys.set(key, quoted);
  }
  return quoted;
}

function scalar(v: unknown): string | undefined {
  switch (typeof v) {
    case 'string':
      return quote(v);
    case 'number':
      return Number.isFinite(v) ? JSON.stringify(v) : undefined;
    case 'boolean':
      return v ? 'true' : 'false';
    default:
      return v === null ? 'null' : undefined;
  }
}
