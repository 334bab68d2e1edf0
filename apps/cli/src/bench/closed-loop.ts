import { summarize, type LatencySummary } from './latency-stats.js';

export interface LoadResult {
  operations: number;
  errors: number;
  seconds: number;
  perSecond: number;
  latency: LatencySummary;
}

export interface ClosedLoopOptions {
  concurrency: number;
  durationMs: number;
  warmupMs: number;
  /** One operation of worker `w`; resolves when it completed. Returns units done (default 1). */
  op: (w: number, i: number) => Promise<number | void>;
  onProgress?: (done: number, elapsedMs: number) => void;
  /** Called when the measured window opens and closes (resource meters). */
  window?: { begin: () => Promise<void>; end: () => Promise<void> };
}

/**
 * `concurrency` workers each run operations back to back (a closed loop, as agents waiting for
 * their replies do). Operations finishing during the warm-up are not counted.
 */
export async function runClosedLoop(o: ClosedLoopOptions): Promise<LoadResult> {
  const start = performance.now();
  const measureFrom = start + o.warmupMs;
  const end = measureFrom + o.durationMs;
  const latencies: number[] = [];
  let units = 0;
  let errors = 0;
  let lastProgress = start;
  const windowDone = o.window
    ? (async () => {
        await new Promise((r) => setTimeout(r, o.warmupMs));
        await o.window!.begin();
        await new Promise((r) => setTimeout(r, Math.max(0, end - performance.now())));
        await o.window!.end();
      })()
    : Promise.resolve();
  await Promise.all(
    Array.from({ length: o.concurrency }, async (_, w) => {
      for (let i = 0; performance.now() < end; i++) {
        const t0 = performance.now();
        let n: number | void = 1;
        try {
          n = await o.op(w, i);
        } catch {
          errors += 1;
          continue;
        }
        const t1 = performance.now();
        if (t0 >= measureFrom && t1 <= end) {
          latencies.push(t1 - t0);
          units += typeof n === 'number' ? n : 1;
        }
        if (o.onProgress && t1 - lastProgress > 1000) {
          lastProgress = t1;
          o.onProgress(units, t1 - start);
        }
      }
    }),
  );
  await windowDone;
  const seconds = o.durationMs / 1000;
  return { operations: units, errors, seconds, perSecond: Math.round(units / seconds), latency: summarize(latencies) };
}
