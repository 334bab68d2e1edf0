import { linearDotStar } from './linear-pattern.js';
import { compileSafePattern } from './safe-pattern.js';

describe('compileSafePattern', () => {
  it('compiles safe patterns, case-insensitive by default', () => {
    const r = compileSafePattern('^/mem/[a-z]+$');
    expect(r.ok && r.regex.test('/MEM/abc')).toBe(true);
    const exact = compileSafePattern('^abc$', '');
    expect(exact.ok && exact.regex.test('ABC')).toBe(false);
  });

  it('refuses what could stall the kernel or is not a pattern', () => {
    expect(compileSafePattern('(a+)+$')).toEqual({
      ok: false,
      message: 'the regular expression could backtrack catastrophically (nested quantifiers)',
    });
    expect(compileSafePattern('([a-z]*)*')).toMatchObject({ ok: false });
    expect(compileSafePattern('x'.repeat(513))).toMatchObject({ ok: false, message: expect.stringMatching(/512/) });
    expect(compileSafePattern('[')).toMatchObject({ ok: false, message: expect.stringMatching(/^invalid/) });
    expect(compileSafePattern('')).toMatchObject({ ok: false });
    expect(compileSafePattern(7)).toMatchObject({ ok: false });
  });
});

describe('linearDotStar', () => {
  it('rewrites plain A.*B sequences, and nothing else', () => {
    expect(linearDotStar('\\bALTER\\s+TABLE\\b.*\\bDROP\\b')).toBe('^(?=(.*?\\bALTER\\s+TABLE\\b))\\1.*?\\bDROP\\b');
    expect(linearDotStar('a.*?b.*c')).toBe('^(?=(.*?a))\\1(?=(.*?b))\\2.*?c');
    expect(linearDotStar('.*a')).toBeNull();
    expect(linearDotStar('abc')).toBeNull();
    expect(linearDotStar('(a).*b')).toBeNull();
    expect(linearDotStar('a|b.*c')).toBeNull();
    expect(linearDotStar('^a.*b')).toBeNull();
    expect(linearDotStar('(a)\\1.*b')).toBeNull();
    expect(linearDotStar('[.*]x')).toBeNull();
    expect(linearDotStar('a\\.*b')).toBeNull();
  });

  it('matches what the original matches', () => {
    const samples = [
      'alter table x drop y',
      'ALTER\nTABLE x DROP y',
      'alter table x;\ndrop y',
      'drop then alter table x',
      'x; UPDATE t SET a = 1 WHERE 1 = 1',
      'update t\nset a where 1=1',
      'UPDATE x WHERE 1=1 SET',
      'first line\nupdate t set a = 1 where 1=1',
    ];
    for (const source of ['\\bALTER\\s+TABLE\\b.*\\bDROP\\b', '\\bUPDATE\\s+.*\\bSET\\b.*\\bWHERE\\s+1\\s*=\\s*1']) {
      const original = new RegExp(source, 'i');
      const linear = compileSafePattern(source);
      if (!linear.ok) throw new Error(linear.message);
      for (const s of samples) expect([source, s, linear.regex.test(s)]).toEqual([source, s, original.test(s)]);
    }
  });
});
