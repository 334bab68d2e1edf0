import { backoffDelayMs } from './retry-backoff.js';

describe('backoffDelayMs', () => {
  it('doubles per attempt, between half and all of the ceiling', () => {
    expect([1, 2, 3, 4].map((n) => backoffDelayMs(n, 100, 5_000, () => 0))).toEqual([50, 100, 200, 400]);
    expect([1, 2, 3, 4].map((n) => backoffDelayMs(n, 100, 5_000, () => 1))).toEqual([100, 200, 400, 800]);
  });

  it('is capped, and jittered within the cap', () => {
    expect(backoffDelayMs(30, 100, 5_000, () => 1)).toBe(5_000);
    const delays = Array.from({ length: 200 }, () => backoffDelayMs(3, 100));
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(200);
    expect(Math.max(...delays)).toBeLessThanOrEqual(400);
    expect(new Set(delays).size).toBeGreaterThan(1);
  });
});
