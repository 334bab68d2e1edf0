import { decodeStrictBase64 } from './strict-base64.js';

describe('decodeStrictBase64', () => {
  it('decodes canonical base64, including the empty string and every byte value', () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    for (const n of [0, 1, 2, 3, 4, 255, 256]) {
      const bytes = all.subarray(0, n);
      expect(decodeStrictBase64(bytes.toString('base64'))).toEqual({ ok: true, bytes });
    }
  });

  it.each([
    ['QQ', /multiple of 4/],
    ['QQ=', /multiple of 4/],
    ['Q Q==', /U\+0020 at index 1/],
    ['QQ==\n', /U\+000A/],
    ['a-b_', /U\+002D at index 1/],
    ['a*b=', /U\+002A/],
    ['QR==', /not canonical/],
    ['QUI=QUI=', /not canonical/],
    ['=QQQ', /not canonical/],
    ['Q===', /not canonical/],
    ['é', /U\+00E9/],
  ])('refuses %j', (text, message) => {
    const r = decodeStrictBase64(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(message);
  });
});
