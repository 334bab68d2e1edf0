/**
 * The recorder's feed of commits, on `agentos.internal.feed.<partition>`: after each transaction,
 * the streams it changed and the version each reached. It carries no event data on purpose: a
 * consumer never takes anything from it but "this stream moved, reload it from the log if you
 * hold it", so a lost, late or forged message costs at most a read of the log.
 */
export interface FeedHint {
  /** Log partition the commit belongs to. */
  p: number;
  /** The partition's log head after the commit. */
  head: number;
  /** Commit time (epoch ms, the recorder's clock): consumers measure how late hints reach them. */
  at: number;
  /** `[streamId, version]` of every stream the commit changed. */
  s: [streamId: string, version: number][];
}

/** Most streams one hint names; a transaction touching more is announced in several. */
export const FEED_HINT_MAX_STREAMS = 512;

/** A hint as received, or null when it is not one (consumers ignore those). */
export function readFeedHint(x: unknown): FeedHint | null {
  if (x === null || typeof x !== 'object' || Array.isArray(x)) return null;
  const m = x as Record<string, unknown>;
  if (!Number.isSafeInteger(m.p) || !Number.isSafeInteger(m.head) || !Array.isArray(m.s)) return null;
  if (typeof m.at !== 'number' || !Number.isFinite(m.at)) return null;
  if (m.s.length > FEED_HINT_MAX_STREAMS) return null;
  for (const e of m.s) {
    if (!Array.isArray(e) || e.length !== 2 || typeof e[0] !== 'string' || e[0].length > 256) return null;
    if (!Number.isSafeInteger(e[1]) || e[1] < 1) return null;
  }
  return m as unknown as FeedHint;
}
