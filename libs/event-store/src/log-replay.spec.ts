import type pg from 'pg';
import type { RecordedEvent } from './event-record.js';
import { parseStoredData, replayEvents, type LogEvent, type LogRangeOptions } from './log-replay.js';

type Row = [number, string, number, string, string, number, string];

/**
 * A stand-in for a pg.Pool over an in-memory log: answers the driver's three queries (head, a
 * position range, a stream page) from `rows`, each after a delay, so reads in flight resolve out
 * of order; records every range asked for.
 */
function fakePool(rows: Row[], delays: number[] = [5, 1, 3, 0, 2]) {
  const asked: { from: number; to: number; share?: [number, number] }[] = [];
  let n = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  const hash = (s: string) => [...s].reduce((h, c) => (h * 31 + c.charCodeAt(0)) | 0, 7) & 2147483647;
  const pool = {
    async query(q: string | { text: string; values: unknown[] }) {
      const text = typeof q === 'string' ? q : q.text;
      const v = typeof q === 'string' ? [] : q.values;
      if (text.includes('FROM log_head')) return { rows: [{ position: rows.length ? rows[rows.length - 1][0] : 0 }] };
      const single = text.includes('stream_id = $1');
      if (!single) {
        const [from, to, , of, index] = v as [number, number, string, number?, number?];
        asked.push({ from, to, ...(of !== undefined ? { share: [index!, of] as [number, number] } : {}) });
      }
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, delays[n++ % delays.length]));
      inFlight -= 1;
      if (single) {
        const [stream, version, after, upTo, limit] = v as [string, number, number, number | null, number];
        const page = rows.filter(
          (r) => r[1] === stream && r[2] > version && r[0] > after && (upTo === null || r[0] <= upTo),
        );
        return { rows: page.sort((a, b) => a[2] - b[2]).slice(0, limit) };
      }
      const [from, to, prefix, of, index] = v as [number, number, string, number?, number?];
      return {
        rows: rows.filter(
          (r) =>
            r[0] > from && r[0] <= to && r[1].startsWith(prefix) && (of === undefined || hash(r[1]) % of === index),
        ),
      };
    },
  };
  return { pool: pool as unknown as pg.Pool, asked, maxInFlight: () => maxInFlight };
}

/** A log of `n` events over `streams` agent streams, plus a policy event every 10 positions. */
function log(n: number, streams = 3): Row[] {
  const versions = new Map<string, number>();
  const out: Row[] = [];
  for (let p = 1; p <= n; p++) {
    const stream = p % 10 === 0 ? '$policy' : `agent:a${p % streams}`;
    const v = (versions.get(stream) ?? 0) + 1;
    versions.set(stream, v);
    out.push([p, stream, v, `id-${p}`, 'T', 1, JSON.stringify({ p })]);
  }
  return out;
}

async function collect(pool: pg.Pool, o: LogRangeOptions = {}) {
  const seen: LogEvent[] = [];
  const stats = await replayEvents({ pool, ...o }, (e) => seen.push({ ...e }));
  return { seen, stats };
}

describe('replay driver (replayEvents)', () => {
  it('hands every agent event over once, in position order, while ranges are read ahead', async () => {
    const rows = log(1000);
    const f = fakePool(rows);
    const { seen, stats } = await collect(f.pool, { batchSize: 64, prefetch: 4 });
    const expected = rows.filter((r) => r[1].startsWith('agent:'));
    expect(seen.map((e) => e.position)).toEqual(expected.map((r) => r[0]));
    expect(seen[0]).toEqual({
      position: 1,
      streamId: 'agent:a1',
      streamVersion: 1,
      eventId: 'id-1',
      type: 'T',
      schemaVersion: 1,
      data: { p: 1 },
      recordedAt: null,
    });
    expect(stats).toEqual({ events: expected.length, lastPosition: 999 });
    expect(f.maxInFlight()).toBe(4);
    // dense, adjacent ranges of batchSize positions up to the head
    expect(f.asked[0]).toEqual({ from: 0, to: 64 });
    for (let i = 1; i < f.asked.length; i++) expect(f.asked[i].from).toBe(f.asked[i - 1].to);
    expect(f.asked[f.asked.length - 1].to).toBe(1000);
  });

  it('reads only (after, upTo] and, with a prefix of "", every stream', async () => {
    const rows = log(300);
    const { seen, stats } = await collect(fakePool(rows).pool, {
      after: 17,
      upTo: 250,
      batchSize: 50,
      streamPrefix: '',
    });
    expect(seen.map((e) => e.position)).toEqual(rows.slice(17, 250).map((r) => r[0]));
    expect(stats.lastPosition).toBe(250);
    expect(seen.some((e) => e.streamId === '$policy')).toBe(true);
  });

  it('splits the streams into disjoint shares that together are the whole log', async () => {
    const rows = log(600, 7);
    const shares = [];
    for (let index = 0; index < 3; index++) {
      const f = fakePool(rows);
      const r = await collect(f.pool, { share: { index, of: 3 }, batchSize: 40 });
      // a share's ranges are `of` times wider, so each read stays near batchSize rows
      expect(f.asked[0]).toEqual({ from: 0, to: 120, share: [index, 3] });
      shares.push(r.seen);
    }
    const streamsOf = shares.map((s) => new Set(s.map((e) => e.streamId)));
    for (let i = 0; i < 3; i++)
      for (let j = i + 1; j < 3; j++) expect([...streamsOf[i]].filter((x) => streamsOf[j].has(x))).toEqual([]);
    const all = shares.flat().map((e) => e.position);
    expect(all.sort((a, b) => a - b)).toEqual(rows.filter((r) => r[1].startsWith('agent:')).map((r) => r[0]));
    for (const s of shares)
      expect(s.map((e) => e.position)).toEqual([...s.map((e) => e.position)].sort((a, b) => a - b));
  });

  it('reads one stream by its versions, page by page, up to a position', async () => {
    const rows = log(500);
    const { seen } = await collect(fakePool(rows).pool, { streamId: 'agent:a2', upTo: 400, batchSize: 16 });
    const expected = rows.filter((r) => r[1] === 'agent:a2' && r[0] <= 400);
    expect(seen.map((e) => [e.position, e.streamVersion])).toEqual(expected.map((r) => [r[0], r[2]]));
  });

  it('hands a row whose data is not JSON over as undefined instead of failing the replay', async () => {
    const rows = log(40);
    rows[4][6] = '{"p":5,'; // tampered: cut short
    rows[7][6] = 'not json';
    const { seen } = await collect(fakePool(rows).pool, { batchSize: 8 });
    expect(seen.find((e) => e.position === 5)!.data).toBeUndefined();
    expect(seen.find((e) => e.position === 8)!.data).toBeUndefined();
    expect(seen.find((e) => e.position === 9)!.data).toEqual({ p: 9 });
    expect(seen).toHaveLength(rows.filter((r) => r[1].startsWith('agent:')).length);
  });

  it('reuses one event object (folds copy what they keep)', async () => {
    const objects = new Set<LogEvent>();
    await replayEvents({ pool: fakePool(log(50)).pool, batchSize: 8 }, (e) => objects.add(e));
    expect(objects.size).toBe(1);
  });

  it('lets the reads in flight finish when a fold fails, and reports the failure', async () => {
    const f = fakePool(log(400));
    await expect(
      replayEvents({ pool: f.pool, batchSize: 10, prefetch: 5 }, (e) => {
        if (e.position === 55) throw new Error('fold failed');
      }),
    ).rejects.toThrow('fold failed');
  });

  it('replays events another reader fetched (the recorder over NATS) the same way', async () => {
    const recorded: RecordedEvent[] = log(5).map((r) => ({
      position: r[0],
      streamId: r[1],
      streamVersion: r[2],
      eventId: r[3],
      idempotencyKey: null,
      type: r[4],
      schemaVersion: r[5],
      data: JSON.parse(r[6]),
      metadata: {},
      recordedAt: `2026-01-01T00:00:0${r[0]}.000Z`,
      prevHash: '',
      hash: '',
    }));
    async function* pages() {
      yield* recorded;
    }
    const seen: LogEvent[] = [];
    const stats = await replayEvents(pages(), (e) => seen.push({ ...e }));
    expect(stats).toEqual({ events: 5, lastPosition: 5 });
    expect(seen[2]).toMatchObject({
      position: 3,
      streamId: 'agent:a0',
      data: { p: 3 },
      recordedAt: '2026-01-01T00:00:03.000Z',
    });
  });

  it('parses stored data totally', () => {
    expect(parseStoredData('{"a":[1,2]}')).toEqual({ a: [1, 2] });
    expect(parseStoredData('{"__proto__":1}')).toEqual(JSON.parse('{"__proto__":1}'));
    expect(parseStoredData('')).toBeUndefined();
    expect(parseStoredData('{')).toBeUndefined();
  });
});
