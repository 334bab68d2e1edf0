/**
 * Delay before retry number `attempt` (1, 2, ...): exponential from `baseMs`, capped at `maxMs`,
 * with "equal jitter" (half fixed, half random) so that a fleet retrying together spreads out.
 */
export function backoffDelayMs(attempt: number, baseMs: number, maxMs = 5_000, random = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return ceiling / 2 + random() * (ceiling / 2);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
