/**
 * Waits until `condition` holds, checking every few milliseconds, or fails after `timeoutMs`
 * naming what it waited for. Tests synchronise on conditions, never on fixed sleeps.
 */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  what = 'the condition',
  everyMs = 10,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Polls `probe` until it returns a value that is not undefined, or fails after `timeoutMs`. */
export async function eventually<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 10_000,
  what = 'a value',
  everyMs = 10,
): Promise<T> {
  let found: T | undefined;
  await waitFor(
    async () => {
      found = await probe();
      return found !== undefined;
    },
    timeoutMs,
    what,
    everyMs,
  );
  return found as T;
}
