import { minuteOf } from './agent-reducer.js';

const reference = (at: string) => Math.floor(Date.parse(at) / 60_000);

/** Same as Math.floor(Date.parse(at) / 60_000), NaN included (Object.is), whatever came before. */
function expectSame(at: string): void {
  expect([at, minuteOf(at)]).toEqual([at, reference(at)]);
}

describe('minuteOf (the rate-usage minute, memoised)', () => {
  it('is Date.parse to the minute for recorded times, across minutes, hours, days and years', () => {
    let t = Date.parse('2026-11-30T23:58:57.123Z');
    for (let i = 0; i < 5000; i++) {
      t += 137 + ((i * 7919) % 3000);
      expectSame(new Date(t).toISOString());
    }
    for (const at of ['1999-12-31T23:59:59.999Z', '2000-01-01T00:00:00.000Z', '0000-01-01T00:00:00.000Z'])
      expectSame(at);
  });

  it('gives what Date.parse gives for text that is not the recorder form, right after a memoised minute', () => {
    const odd = [
      '2026-11-30T20:22:60.000Z', // no 60th second: NaN
      '2026-11-30T20:22:5x.000Z',
      '2026-11-30T20:22:09.23Z',
      '2026-11-30T20:22:09.2300Z',
      '2026-11-30t20:22:09.230Z',
      '2026-11-30T20:22:09.230z',
      '2026-11-30T20:22:09.230+01:00',
      '2026-11-30T20:22:09Z',
      '2026-11-30T24:00:00.000Z', // valid: the end of the day
      '2026-11-30T24:00:01.000Z', // not valid
      '2026-11-30T24:00:00.000Z',
      '2026-02-30T20:22:09.230Z', // what Date.parse makes of it, whatever that is
      '2026-02-30T20:22:10.230Z',
      '2026-13-30T20:22:09.230Z',
      'Mon, 30 Nov 2026 20:22:09 GMT',
      'not a time',
      '',
      '2026-11-30T20:22:09.230Z\u0000',
    ];
    for (const at of odd) {
      expectSame('2026-11-30T20:22:30.000Z'); // memoises 2026-11-30T20:22
      expectSame(at);
      expectSame(at); // and again, after whatever it memoised
    }
  });
});
