import canonicalize from 'canonicalize';
import { plainCanonicalJson, toCanonicalJson } from './canonical-json.js';

/** A small seeded PRNG (mulberry32), so a failure can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CHARS = [
  'a',
  'Z',
  '0',
  ' ',
  '"',
  '\\',
  '/',
  '\n',
  '\t',
  '\u0000',
  '\u001f',
  '\u007f',
  'é',
  'ß',
  '€',
  '\u2028',
  '\u2029',
  '\ufeff',
  '\uffff',
  '😀',
  '𝄞',
  '\ud83d\ude00',
];
const KEYS = [
  'a',
  'b',
  'B',
  '',
  '10',
  '9',
  '01',
  '1',
  '__proto__',
  'constructor',
  'é',
  '😀',
  'aa',
  'a\u0000',
  'Z',
  '"q"',
];
const NUMBERS = [
  0,
  -0,
  1,
  -1,
  0.1,
  1.5,
  -2.25,
  1e21,
  1e-7,
  123456789012345680000,
  Number.MAX_SAFE_INTEGER,
  Number.MIN_VALUE,
  Number.MAX_VALUE,
  4.35,
  333333333.3333333,
  1e23,
];

function randomString(r: () => number, allowLone: boolean): string {
  let s = '';
  const n = Math.floor(r() * 12);
  for (let i = 0; i < n; i++) s += CHARS[Math.floor(r() * CHARS.length)];
  if (allowLone && r() < 0.5) s += r() < 0.5 ? '\ud800' : '\udfff';
  return s;
}

function randomKey(r: () => number): string {
  return r() < 0.7 ? KEYS[Math.floor(r() * KEYS.length)] : randomString(r, false);
}

/** A random plain JSON value (as JSON.parse would build it) of at most `depth` levels. */
function randomValue(r: () => number, depth: number, lone = false): unknown {
  const x = r();
  if (depth <= 0 || x < 0.45) {
    const k = r();
    if (k < 0.2) return null;
    if (k < 0.3) return r() < 0.5;
    if (k < 0.55) return NUMBERS[Math.floor(r() * NUMBERS.length)];
    if (k < 0.7) return (r() - 0.5) * 10 ** Math.floor(r() * 40 - 20);
    return randomString(r, lone && r() < 0.05);
  }
  if (x < 0.7) return Array.from({ length: Math.floor(r() * 5) }, () => randomValue(r, depth - 1, lone));
  // built through JSON.parse so that keys like __proto__ are own data properties, as in events
  const entries: [string, unknown][] = Array.from({ length: Math.floor(r() * 6) }, () => [
    randomKey(r),
    randomValue(r, depth - 1, lone),
  ]);
  const obj = JSON.parse('{}') as Record<string, unknown>;
  for (const [k, v] of entries)
    Object.defineProperty(obj, k, { value: v, enumerable: true, writable: true, configurable: true });
  return obj;
}

function outcome(f: () => string | undefined): string {
  try {
    return `ok:${f()}`;
  } catch (err) {
    return `throws:${(err as Error).message}`;
  }
}

function nested(depth: number): unknown {
  let v: unknown = 'leaf';
  for (let i = 0; i < depth; i++) v = i % 2 ? [v, i] : { k: v, [`n${i}`]: i };
  return v;
}

describe('toCanonicalJson', () => {
  it('equals canonicalize on randomized JSON values', () => {
    const r = rng(8785);
    let fast = 0;
    for (let i = 0; i < 20_000; i++) {
      const v = randomValue(r, 1 + Math.floor(r() * 8));
      const expected = canonicalize(v);
      expect(toCanonicalJson(v)).toBe(expected);
      const plain = plainCanonicalJson(v);
      if (plain !== undefined) {
        fast += 1;
        expect(plain).toBe(expected);
      }
    }
    // plain data never needs the fallback
    expect(fast).toBe(20_000);
  });

  it('behaves as canonicalize for lone surrogates (refused) and the values the fast path hands over', () => {
    const r = rng(42);
    let refused = 0;
    for (let i = 0; i < 5_000; i++) {
      const v = randomValue(r, 4, true);
      const got = outcome(() => toCanonicalJson(v));
      expect(got).toBe(outcome(() => canonicalize(v)));
      if (got.startsWith('throws')) refused += 1;
    }
    expect(refused).toBeGreaterThan(0);

    class Point {
      constructor(
        readonly x: number,
        readonly y: number,
      ) {}
    }
    const odd: unknown[] = [
      new Date(0),
      { at: new Date(1), b: undefined, f: () => 1 },
      [undefined, () => 1, Symbol('s')],
      { toJSON: () => ({ z: 1, a: [2, 1] }) },
      new Point(1, 2),
      Object.assign(Object.create(null) as object, { b: 1, a: 2 }),
      [new Number(1), new String('s'), new Boolean(false)],
      { n: NaN },
      { n: Infinity },
      { big: 1n },
      { ['\ud800']: 1 },
      'lone \udc00',
      undefined,
    ];
    for (const v of odd) {
      const expected = outcome(() => canonicalize(v) as string | undefined);
      const got = outcome(() => toCanonicalJson(v));
      if (expected === 'ok:undefined') expect(got).toMatch(/^throws:/);
      else expect(got).toBe(expected);
    }
  });

  it('is iterative: 64 levels on the fast path, 100,000 levels without a stack overflow, and cycles refused', () => {
    const d64 = nested(64);
    expect(plainCanonicalJson(d64)).toBe(canonicalize(d64));
    const deep = nested(100_000);
    expect(toCanonicalJson(deep)).toBe(canonicalize(deep));
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = { back: cyclic };
    expect(() => toCanonicalJson(cyclic)).toThrow(/Circular/);
  });

  it('writes the RFC 8785 examples', () => {
    expect(toCanonicalJson({ b: 2, a: 1, c: { z: [3, { y: 1, x: 2 }], a: null } })).toBe(
      '{"a":1,"b":2,"c":{"a":null,"z":[3,{"x":2,"y":1}]}}',
    );
    expect(
      toCanonicalJson({ '\u20ac': 'Euro Sign', '\r': 'Carriage Return', '1': 'One', '\ud83d\ude00': 'Smiley' }),
    ).toBe('{"\\r":"Carriage Return","1":"One","\u20ac":"Euro Sign","\ud83d\ude00":"Smiley"}');
    expect(toCanonicalJson([1e21, 1e-7, -0, 0.000001, 5e-324])).toBe('[1e+21,1e-7,0,0.000001,5e-324]');
  });
});
