import type { PgEventReader } from './pg-event-reader.js';
import { StreamStateCache, type StreamEvent } from './stream-state-cache.js';

/** A reader over in-memory streams: only what the cache calls. */
function memoryReader(streams: Map<string, StreamEvent[]>): PgEventReader {
  return {
    readStream: async (id: string, o: { fromVersion?: number; limit?: number } = {}) =>
      (streams.get(id) ?? []).filter((e) => e.streamVersion >= (o.fromVersion ?? 1)).slice(0, o.limit ?? 1000),
  } as unknown as PgEventReader;
}

const event = (v: number, bytes: number): StreamEvent => ({
  type: 'Grow',
  schemaVersion: 1,
  data: bytes,
  streamVersion: v,
  position: v,
});

describe('StreamStateCache bounds', () => {
  // the state is a byte count: each event adds its data
  const fold = (s: number | null, e: StreamEvent) => (s ?? 0) + (e.data as number);

  it('keeps at most maxBytes of state, evicting the least recently used first, and says what it holds', async () => {
    const streams = new Map<string, StreamEvent[]>();
    for (let i = 0; i < 10; i++) streams.set(`s${i}`, [event(1, 100_000)]);
    const cache = new StreamStateCache<number>(memoryReader(streams), {
      fold,
      clone: (s) => s,
      maxBytes: 350_000,
      sizeOf: (s) => s,
    });
    for (let i = 0; i < 10; i++) await cache.get(`s${i}`);
    expect(cache.bytes).toBeLessThanOrEqual(350_000);
    expect(cache.size).toBe(3);
    expect(cache.holds('s9') && cache.holds('s8') && cache.holds('s7')).toBe(true);
    expect(cache.holds('s0')).toBe(false);
    // an evicted stream loads again, from the log
    expect((await cache.get('s0')).state).toBe(100_000);
  });

  it('counts growth from folded events against the bound', async () => {
    const streams = new Map<string, StreamEvent[]>([
      ['a', [event(1, 10)]],
      ['b', [event(1, 10)]],
    ]);
    const cache = new StreamStateCache<number>(memoryReader(streams), {
      fold,
      clone: (s) => s,
      maxBytes: 1000,
      sizeOf: (s) => s,
    });
    await cache.get('a');
    await cache.get('b');
    expect(cache.bytes).toBe(20);
    cache.apply('b', [event(2, 985)]); // b grows to 995: a must go
    expect(cache.bytes).toBe(995);
    expect(cache.holds('a')).toBe(false);
    expect(cache.holds('b')).toBe(true);
  });

  it('marks an entry stale on a hint that it moved, and reloads only what follows', async () => {
    const streams = new Map<string, StreamEvent[]>([['a', [event(1, 1)]]]);
    const cache = new StreamStateCache<number>(memoryReader(streams), { fold, clone: (s) => s });
    expect((await cache.get('a')).state).toBe(1);
    streams.get('a')!.push(event(2, 2));
    cache.moved('a', 1); // not behind: nothing to do
    expect(cache.holds('a')).toBe(true);
    cache.moved('a', 2);
    expect(cache.holds('a')).toBe(false);
    expect(await cache.get('a')).toMatchObject({ state: 3, version: 2 });
  });
});
