/**
 * Building blocks for fuzzing request subjects: a seeded generator, hostile JSON fragments
 * (kept as raw JSON text, so `-0`, `1e309`, lone surrogates, duplicate and `__proto__` keys
 * reach the server exactly as written), deep values built by string repetition (never by
 * serialising a deep value, which would overflow this process's stack first), byte mutations.
 */

/** A small deterministic generator (mulberry32): the same seed always yields the same cases. */
export class SeededRandom {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  /** In [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let x = this.state;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }

  chance(p: number): boolean {
    return this.next() < p;
  }
}

/** `[[[...]]]`, `depth` levels. */
export function deepArrayText(depth: number): string {
  return '['.repeat(depth) + ']'.repeat(depth);
}

/** `{"a":{"a":...1}}`, `depth` levels. */
export function deepObjectText(depth: number, key = 'a'): string {
  return `{${JSON.stringify(key)}:`.repeat(depth) + '1' + '}'.repeat(depth);
}

/** `[{"a":[{"a":...}]}]`, `depth` levels (alternating arrays and objects). */
export function deepMixedText(depth: number): string {
  const half = Math.floor(depth / 2);
  return '[{"a":'.repeat(half) + 'null' + '}]'.repeat(half);
}

/** A JSON object as text from `[key, rawJsonValue]` pairs (keys may repeat, `__proto__` included). */
export function objectText(fields: readonly (readonly [string, string])[]): string {
  return '{' + fields.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',') + '}';
}

/** A JSON string literal. */
export const str = (s: string): string => JSON.stringify(s);

/** Names that are properties of every plain object: as keys and as values. */
export const PROTOTYPE_NAMES = [
  '__proto__',
  'constructor',
  'toString',
  'valueOf',
  'hasOwnProperty',
  'isPrototypeOf',
  '__defineGetter__',
  'prototype',
] as const;

/**
 * Wrong or hostile values for any field, as raw JSON text, each with a label. Depth 100,000 is
 * built by repetition; numbers that JSON.stringify would never write (`-0`, `1e309`) are text.
 */
export function hostileValues(): [label: string, raw: string][] {
  return [
    ['null', 'null'],
    ['true', 'true'],
    ['false', 'false'],
    ['zero', '0'],
    ['negative zero', '-0'],
    ['-1', '-1'],
    ['fraction', '1.5'],
    ['1e309 (Infinity)', '1e309'],
    ['-1e309', '-1e309'],
    ['1e-400 (underflow)', '1e-400'],
    ['2^53+1', '9007199254740993'],
    ['huge integer', '1' + '0'.repeat(400)],
    ['"NaN"', str('NaN')],
    ['"Infinity"', str('Infinity')],
    ['"-0"', str('-0')],
    ['"1"', str('1')],
    ['empty string', str('')],
    ['empty array', '[]'],
    ['array of one', '[1]'],
    ['array of strings', '["a","b"]'],
    ['empty object', '{}'],
    ['object with __proto__ key', '{"__proto__":{"polluted":true}}'],
    ['object with constructor key', '{"constructor":{"prototype":{"polluted":true}}}'],
    ...PROTOTYPE_NAMES.map((n): [string, string] => [`"${n}"`, str(n)]),
    ['lone high surrogate', '"\\ud800"'],
    ['lone low surrogate', '"a\\udfffb"'],
    ['reversed surrogate pair', '"\\udc00\\ud800"'],
    ['NUL and control characters', '"a\\u0000b\\u0001\\u001f\\u007f\\u0085"'],
    ['newlines and tabs', '"a\\nb\\r\\tc"'],
    ['bidi override and BOM', '"\\u202e\\ufeffx"'],
    ['emoji', str('\u{1F600}\u{1F4A9}')],
    ['path traversal', str('../../../../etc/passwd')],
    ['dots and wildcards', str('a.b.*.>')],
    ['format and template strings', str('%s%n%x${7*7}{{7*7}}')],
    ['sql', str("'; DROP TABLE events; --")],
    ['string of 10,000', str('y'.repeat(10_000))],
    ['string of 200,000', str('z'.repeat(200_000))],
    ['array of 10,000', '[' + Array(10_000).fill('0').join(',') + ']'],
    ['depth 65 array', deepArrayText(65)],
    ['depth 100,000 array', deepArrayText(100_000)],
  ];
}

/** Random JSON (as text) mixing hostile atoms, field names of the subject and prototype keys. */
export function randomJsonText(rng: SeededRandom, keys: readonly string[], depth = 0): string {
  const atoms = HOSTILE_ATOMS;
  const r = rng.next();
  if (depth >= 4 || r < 0.5) {
    if (rng.chance(0.15)) return str(randomString(rng));
    return rng.pick(atoms);
  }
  if (r < 0.7) {
    const n = rng.int(5);
    return '[' + Array.from({ length: n }, () => randomJsonText(rng, keys, depth + 1)).join(',') + ']';
  }
  const n = rng.int(6);
  const allKeys = [...keys, ...PROTOTYPE_NAMES, 'args', 'data', ''];
  return objectText(
    Array.from({ length: n }, () => [rng.pick(allKeys), randomJsonText(rng, keys, depth + 1)] as const),
  );
}

const HOSTILE_ATOMS = hostileValues()
  .map(([, raw]) => raw)
  .filter((raw) => raw.length < 1000);

/** A random string of up to 64 UTF-16 units, surrogate halves and controls included. */
export function randomString(rng: SeededRandom): string {
  const n = rng.int(64);
  let s = '';
  for (let i = 0; i < n; i++) {
    const k = rng.int(10);
    if (k < 5) s += String.fromCharCode(0x20 + rng.int(95));
    else if (k < 6) s += String.fromCharCode(rng.int(0x20));
    else if (k < 7) s += String.fromCharCode(0xd800 + rng.int(0x800));
    else if (k < 8) s += String.fromCharCode(0x80 + rng.int(0xd700));
    else s += rng.pick(['/', '.', '..', '\\', '"', '*', '>', '__proto__']);
  }
  return s;
}

/** The body with random bytes flipped, cut, duplicated or replaced by invalid UTF-8. */
export function mutateBytes(rng: SeededRandom, text: string): Uint8Array {
  let b = Buffer.from(text, 'utf8');
  const edits = 1 + rng.int(4);
  for (let i = 0; i < edits && b.length > 0; i++) {
    const at = rng.int(b.length);
    switch (rng.int(5)) {
      case 0:
        b[at] = rng.int(256);
        break;
      case 1:
        b = b.subarray(0, at);
        break;
      case 2:
        b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + 1 + rng.int(16)), b.subarray(at)]);
        break;
      case 3:
        b = Buffer.concat([b.subarray(0, at), Buffer.from([rng.pick([0xff, 0xc0, 0x80, 0xed, 0xf8])]), b.subarray(at)]);
        break;
      default:
        b = Buffer.concat([b.subarray(0, at), Buffer.from([0]), b.subarray(at)]);
    }
  }
  return new Uint8Array(b);
}

export interface RawCase {
  label: string;
  body: string | Uint8Array;
}

/** Bodies no subject should choke on, whatever it expects: not JSON, not UTF-8, not objects, too deep, too big. */
export function genericHostileBodies(maxPayload: number, maxRequestBytes: number): RawCase[] {
  const bytes = (xs: number[]) => new Uint8Array(xs);
  const pad = (size: number) => {
    const head = '{"pad":"';
    return head + 'x'.repeat(size - head.length - 2) + '"}';
  };
  return [
    { label: 'not JSON', body: 'not json' },
    { label: 'truncated object', body: '{"a":' },
    { label: 'trailing garbage', body: '{} x' },
    { label: 'single quotes', body: "{'a':1}" },
    { label: 'empty body', body: '' },
    { label: 'whitespace only', body: ' \n\t ' },
    { label: 'byte order mark then object', body: '\ufeff{}' },
    {
      label: 'invalid UTF-8 (0xff 0xfe) in a string',
      body: bytes([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
    },
    { label: 'lone continuation byte', body: bytes([0x7b, 0x22, 0x80, 0x22, 0x3a, 0x31, 0x7d]) },
    { label: 'overlong encoding of /', body: bytes([0x7b, 0x22, 0xc0, 0xaf, 0x22, 0x3a, 0x31, 0x7d]) },
    { label: 'UTF-8 encoded surrogate', body: bytes([0x7b, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x3a, 0x31, 0x7d]) },
    { label: 'raw NUL bytes', body: bytes([0x7b, 0x00, 0x7d, 0x00]) },
    { label: 'raw control character in a string', body: '{"a":"\u0001"}' },
    { label: 'null', body: 'null' },
    { label: 'true', body: 'true' },
    { label: 'number 0', body: '0' },
    { label: 'negative zero', body: '-0' },
    { label: '1e309', body: '1e309' },
    { label: 'string', body: '"str"' },
    { label: 'empty array', body: '[]' },
    { label: 'array of objects', body: '[{}]' },
    { label: 'empty object', body: '{}' },
    { label: '__proto__ key', body: '{"__proto__":{"polluted":true,"agentId":"x"}}' },
    { label: 'constructor.prototype key', body: '{"constructor":{"prototype":{"polluted":true}}}' },
    { label: 'prototype method names as keys', body: '{"toString":1,"valueOf":"x","hasOwnProperty":null}' },
    { label: 'duplicate keys', body: '{"a":1,"a":{"b":2},"a":[3]}' },
    { label: 'lone surrogates', body: '{"\\ud800":"\\udfff","x":"\\ud800\\ud800"}' },
    { label: 'NaN-like strings and odd numbers', body: '{"a":1e309,"b":-0,"c":"NaN","d":"-Infinity","e":1e-400}' },
    { label: 'depth 64 object', body: deepObjectText(64) },
    { label: 'depth 65 object', body: deepObjectText(65) },
    { label: 'depth 100,000 array', body: deepArrayText(100_000) },
    { label: 'depth 100,000 object', body: deepObjectText(100_000) },
    { label: 'depth 100,000 mixed', body: deepMixedText(100_000) },
    { label: 'depth 100,000 array in a field', body: `{"a":${deepArrayText(100_000)}}` },
    // 14 bytes a level: 60,000 levels stay under the 1 MiB max payload
    { label: 'depth 60,000 __proto__ objects', body: deepObjectText(60_000, '__proto__') },
    { label: 'unclosed depth 100,000', body: '['.repeat(100_000) },
    { label: '50,000 keys', body: objectText(Array.from({ length: 50_000 }, (_, i) => [`k${i}`, '0'] as const)) },
    {
      // under the request limit, but a validator that names every unknown key answers with ~4x the bytes
      label: '32,000 unknown three-letter keys',
      body: objectText(Array.from({ length: 32_000 }, (_, i) => [threeLetters(i), '0'] as const)),
    },
    { label: 'one byte over the request limit', body: pad(maxRequestBytes + 1) },
    { label: 'just under the NATS max payload', body: pad(maxPayload - 4096) },
  ];
}

function threeLetters(i: number): string {
  const a = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
  return a[i % 52] + a[Math.floor(i / 52) % 52] + a[Math.floor(i / 2704) % 52];
}

/** How a body is named in a finding: its length and its first characters, escaped. */
export function describeBody(body: string | Uint8Array): string {
  const text = typeof body === 'string' ? body : Buffer.from(body).toString('latin1');
  const head = JSON.stringify(text.slice(0, 200));
  return text.length > 200 ? `${head}… (${text.length} chars)` : head;
}
