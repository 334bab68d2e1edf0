import { randomUUID } from 'node:crypto';
import net from 'node:net';
import {
  EventStoreUnavailableError,
  GENESIS_HASH,
  LogFollower,
  PgEventAppender,
  PgEventReader,
  createPgPool,
  verifyChain,
  type AppendOutcome,
  type AppendRequest,
  type NewEvent,
  type RecordedEvent,
} from '#event-store';
import { createTestSchema, type TestSchema } from '../support/test-schema.js';
import { TEST_PG_URL } from '../support/test-env.js';

function ev(type: string, data: NewEvent['data'], extra: Partial<NewEvent> = {}): NewEvent {
  return { eventId: randomUUID(), type, schemaVersion: 1, data, metadata: { service: 'test' }, ...extra };
}

function one(streamId: string, expectedVersion: number | 'any', ...events: NewEvent[]): AppendRequest {
  return { appends: [{ streamId, expectedVersion, events }] };
}

describe('event store on real Postgres', () => {
  let schema: TestSchema;
  let appender: PgEventAppender;
  let reader: PgEventReader;

  beforeAll(async () => {
    schema = await createTestSchema('es');
    appender = new PgEventAppender(schema.servicePool);
    reader = new PgEventReader(schema.servicePool);
  });
  afterAll(async () => {
    await schema.drop();
  });

  it('appends several events to a stream atomically, with dense positions and versions', async () => {
    const out = await appender.append(one('agent:a1', 0, ev('A', { n: 1 }), ev('B', { n: 2 }), ev('C', { n: 3 })));
    expect(out.status).toBe('committed');
    if (out.status !== 'committed') return;
    expect(out.events.map((e) => e.streamVersion)).toEqual([1, 2, 3]);
    const [p1, p2, p3] = out.events.map((e) => e.position);
    expect([p2 - p1, p3 - p2]).toEqual([1, 1]);

    const read = await reader.readStream('agent:a1');
    expect(read.map((e) => [e.type, e.data, e.streamVersion])).toEqual([
      ['A', { n: 1 }, 1],
      ['B', { n: 2 }, 2],
      ['C', { n: 3 }, 3],
    ]);
    expect(read[0].metadata).toEqual({ service: 'test' });
  });

  it('commits an append across two streams all or nothing', async () => {
    await appender.append(one('agent:x', 0, ev('X', {})));
    // second stream's expectation is wrong: neither stream may change
    const failed = await appender.append({
      appends: [
        { streamId: 'agent:y', expectedVersion: 0, events: [ev('Y', {})] },
        { streamId: 'agent:x', expectedVersion: 0, events: [ev('X', {})] },
      ],
    });
    expect(failed).toEqual({ status: 'conflict', streamId: 'agent:x', expectedVersion: 0, actualVersion: 1 });
    expect(await reader.streamVersion('agent:y')).toBe(0);
    expect(await reader.streamVersion('agent:x')).toBe(1);

    const ok = await appender.append({
      appends: [
        { streamId: 'agent:y', expectedVersion: 0, events: [ev('Y', {})] },
        { streamId: 'agent:x', expectedVersion: 1, events: [ev('X', {})] },
      ],
    });
    expect(ok.status).toBe('committed');
    expect(await reader.streamVersion('agent:y')).toBe(1);
    expect(await reader.streamVersion('agent:x')).toBe(2);
  });

  it('rejects a stale expected version with a typed conflict, and lets exactly one of two racers win', async () => {
    await appender.append(one('agent:race', 0, ev('Start', {})));
    const racers = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        new PgEventAppender(schema.servicePool).append(one('agent:race', 1, ev('Won', { i }))),
      ),
    );
    const winners = racers.filter((r) => r.status === 'committed');
    const losers = racers.filter((r) => r.status === 'conflict');
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(7);
    expect(losers[0]).toEqual({ status: 'conflict', streamId: 'agent:race', expectedVersion: 1, actualVersion: 2 });
    expect(await reader.streamVersion('agent:race')).toBe(2);
  });

  it('checks conditions on streams it does not write', async () => {
    await appender.append(one('$policy-test', 0, ev('PolicyApplied', { v: 1 })));
    const stale = await appender.append({
      appends: [{ streamId: 'agent:c', expectedVersion: 'any', events: [ev('S', {})] }],
      conditions: [{ streamId: '$policy-test', version: 0 }],
    });
    expect(stale).toEqual({
      status: 'condition_failed',
      streamId: '$policy-test',
      expectedVersion: 0,
      actualVersion: 1,
    });
    const fresh = await appender.append({
      appends: [{ streamId: 'agent:c', expectedVersion: 'any', events: [ev('S', {})] }],
      conditions: [{ streamId: '$policy-test', version: 1 }],
    });
    expect(fresh.status).toBe('committed');
  });

  it('returns the original positions for a reused idempotency key and appends nothing', async () => {
    const first = await appender.append(one('agent:idem', 'any', ev('W', { try: 1 }, { idempotencyKey: 'req-1' })));
    const headBefore = await reader.head();
    const again = await appender.append(one('agent:idem', 'any', ev('W', { try: 2 }, { idempotencyKey: 'req-1' })));
    expect(first.status).toBe('committed');
    expect(again.status).toBe('committed');
    if (first.status !== 'committed' || again.status !== 'committed') return;
    expect(again.duplicate).toBe(true);
    expect(again.events.map((e) => e.position)).toEqual(first.events.map((e) => e.position));
    expect((await reader.head()).position).toBe(headBefore.position);
    const stored = await reader.readStream('agent:idem');
    expect(stored.map((e) => e.data)).toEqual([{ try: 1 }]);
    // the same key on another stream is a different request
    const other = await appender.append(one('agent:idem2', 'any', ev('W', {}, { idempotencyKey: 'req-1' })));
    expect(other.status === 'committed' && !other.duplicate).toBe(true);
  });

  it('treats a retry whose keyed event was recorded as a duplicate, even with fresh unkeyed events', async () => {
    const first = await appender.append({
      appends: [
        {
          streamId: 'agent:mixed',
          expectedVersion: 0,
          events: [ev('Syscall', {}, { idempotencyKey: 'req-9' }), ev('Signal', {})],
        },
        { streamId: 'agent:mixed-target', expectedVersion: 0, events: [ev('Signal', {})] },
      ],
    });
    const retry = await appender.append({
      appends: [
        {
          streamId: 'agent:mixed',
          expectedVersion: 2,
          events: [ev('Syscall', {}, { idempotencyKey: 'req-9' }), ev('Signal', {})],
        },
        { streamId: 'agent:mixed-target', expectedVersion: 1, events: [ev('Signal', {})] },
      ],
    });
    expect(first.status).toBe('committed');
    expect(retry).toMatchObject({ status: 'committed', duplicate: true });
    if (first.status !== 'committed' || retry.status !== 'committed') return;
    expect(retry.events).toEqual([first.events[0]]);
    expect(await reader.streamVersion('agent:mixed')).toBe(2);
    expect(await reader.streamVersion('agent:mixed-target')).toBe(1);
  });

  it('deduplicates a retried request inside one group commit batch', async () => {
    const e = ev('W', {}, { idempotencyKey: 'same-batch' });
    const outs = await appender.appendBatch([one('agent:batchdup', 'any', e), one('agent:batchdup', 'any', { ...e })]);
    expect(outs.map((o) => o.status)).toEqual(['committed', 'committed']);
    if (outs[0].status !== 'committed' || outs[1].status !== 'committed') return;
    expect(outs[1].duplicate).toBe(true);
    expect(outs[1].events[0].position).toBe(outs[0].events[0].position);
    expect(await reader.streamVersion('agent:batchdup')).toBe(1);
  });

  it('isolates a bad request in a batch: the others still commit', async () => {
    const outs = await appender.appendBatch([
      one('agent:good1', 0, ev('G', {})),
      { appends: [{ streamId: 'bad stream id', expectedVersion: 0, events: [ev('B', {})] }] },
      one('agent:good2', 0, ev('G', { s: 'lone \ud800 surrogate' })),
      one('agent:good3', 0, ev('G', {})),
    ]);
    expect(outs.map((o) => o.status)).toEqual(['committed', 'rejected', 'rejected', 'committed']);
  });

  it('lets a follower see every event exactly once, in order, while many writers append concurrently', async () => {
    const start = (await reader.head()).position;
    const writers = 12;
    const perWriter = 60;
    const pools = Array.from({ length: 4 }, () =>
      createPgPool({ pgUrl: schema.pgUrl, pgSchema: schema.name, pgRole: 'agentos_service', poolSize: 3 }),
    );
    const controller = new AbortController();
    const seen: RecordedEvent[] = [];
    const follower = new LogFollower(new PgEventReader(schema.servicePool), { after: start, pollMs: 5, batchSize: 37 });
    const following = (async () => {
      for await (const e of follower.follow(controller.signal)) seen.push(e);
    })();

    const committed: number[] = [];
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        const a = new PgEventAppender(pools[w % pools.length]);
        for (let i = 0; i < perWriter; i++) {
          // mix single appends and small batches, several streams per writer
          const batch = Array.from({ length: 1 + (i % 3) }, (_, k) =>
            one(`agent:w${w}-${k}`, 'any', ev('Tick', { w, i, k })),
          );
          const outs = await a.appendBatch(batch);
          for (const o of outs) if (o.status === 'committed') committed.push(...o.events.map((e) => e.position));
        }
      }),
    );
    const end = (await reader.head()).position;
    const deadline = Date.now() + 20000;
    while (follower.position < end && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    controller.abort();
    await following;
    await Promise.all(pools.map((p) => p.end()));

    const positions = seen.map((e) => e.position);
    expect(positions.length).toBe(end - start);
    expect(positions).toEqual(Array.from({ length: end - start }, (_, i) => start + 1 + i));
    expect(new Set(positions).size).toBe(positions.length);
    expect(committed.sort((a, b) => a - b)).toEqual(positions);
  });

  it('refuses UPDATE, DELETE and TRUNCATE on events, even for the owner', async () => {
    await appender.append(one('agent:imm', 0, ev('A', { x: 1 })));
    for (const pool of [schema.ownerPool, schema.servicePool]) {
      await expect(pool.query(`UPDATE events SET data = '{"x":2}' WHERE stream_id = 'agent:imm'`)).rejects.toThrow(
        /append-only|permission denied/,
      );
      await expect(pool.query(`DELETE FROM events WHERE stream_id = 'agent:imm'`)).rejects.toThrow(
        /append-only|permission denied/,
      );
      await expect(pool.query(`TRUNCATE events`)).rejects.toThrow(/append-only|permission denied/);
    }
    // the service role lacks the rights altogether
    await expect(schema.servicePool.query(`UPDATE events SET type = 'Z'`)).rejects.toThrow(/permission denied/);
    const [stored] = await reader.readStream('agent:imm');
    expect(stored.data).toEqual({ x: 1 });
  });

  it('throws a typed unavailable error when Postgres cannot be reached, and writes nothing', async () => {
    const deadPool = createPgPool({ pgUrl: 'postgres://postgres@127.0.0.1:1/none', pgSchema: schema.name });
    const dead = new PgEventAppender(deadPool);
    await expect(dead.append(one('agent:dead', 0, ev('A', {})))).rejects.toBeInstanceOf(EventStoreUnavailableError);
    await deadPool.end();
    expect(await reader.streamVersion('agent:dead')).toBe(0);
  });
});

describe('hash chain verification on real Postgres', () => {
  let schema: TestSchema;
  let appender: PgEventAppender;

  beforeEach(async () => {
    schema = await createTestSchema('chain');
    appender = new PgEventAppender(schema.servicePool);
    for (let i = 0; i < 10; i++) {
      await appender.appendBatch([one(`agent:s${i % 3}`, 'any', ev('E', { i, text: `päyload ${i}` }))]);
    }
  });
  afterEach(async () => {
    await schema.drop();
  });

  /** Runs SQL with the append-only guard lifted, as only a superuser can. */
  async function tamper(sql: string): Promise<void> {
    const c = await schema.ownerPool.connect();
    try {
      await c.query('BEGIN');
      await c.query(`SET LOCAL session_replication_role = replica`);
      await c.query(sql);
      await c.query('COMMIT');
    } finally {
      c.release();
    }
  }

  it('accepts an untouched log and reports its end points', async () => {
    const r = await verifyChain(schema.servicePool);
    expect(r).toMatchObject({ ok: true, checked: 10, from: 1, to: 10, startHash: GENESIS_HASH });
    const head = await new PgEventReader(schema.servicePool).head();
    expect(r.lastHash).toBe(head.hash);
    const range = await verifyChain(schema.servicePool, { from: 4, to: 7 });
    expect(range).toMatchObject({ ok: true, checked: 4 });
  });

  it('finds an altered event', async () => {
    await tamper(`UPDATE events SET data = replace(data, 'päyload 6', 'payload 6') WHERE position = 7`);
    const r = await verifyChain(schema.servicePool);
    expect(r.ok).toBe(false);
    expect(r.firstBad).toMatchObject({ position: 7, reason: 'hash_mismatch' });
  });

  it('finds altered metadata and an altered timestamp', async () => {
    await tamper(`UPDATE events SET recorded_at = recorded_at + interval '1 second' WHERE position = 3`);
    expect((await verifyChain(schema.servicePool)).firstBad).toMatchObject({ position: 3, reason: 'hash_mismatch' });
  });

  it('finds a deleted event', async () => {
    await tamper(`DELETE FROM events WHERE position = 5`);
    const r = await verifyChain(schema.servicePool);
    expect(r.firstBad).toMatchObject({ position: 5, reason: 'missing' });
  });

  it('finds a deleted event even when later positions were shifted down to hide the gap', async () => {
    await tamper(`DELETE FROM events WHERE position = 5`);
    await tamper(`UPDATE events SET position = position - 1 WHERE position > 5`);
    await tamper(`UPDATE log_head SET position = position - 1`);
    const r = await verifyChain(schema.servicePool);
    expect(r.firstBad).toMatchObject({ position: 5, reason: 'prev_hash_mismatch' });
  });

  it('finds two events swapped between positions', async () => {
    await tamper(`UPDATE events SET position = position + 1000000 WHERE position IN (3, 4)`);
    await tamper(`UPDATE events SET position = CASE position WHEN 1000003 THEN 4 ELSE 3 END WHERE position > 1000000`);
    const r = await verifyChain(schema.servicePool);
    expect(r.ok).toBe(false);
    expect(r.firstBad?.position).toBe(3);
  });

  it('finds a cut-off tail', async () => {
    await tamper(`DELETE FROM events WHERE position > 8`);
    const r = await verifyChain(schema.servicePool);
    expect(r.firstBad).toMatchObject({ position: 9, reason: 'missing' });
  });
});

describe('optimistic appends: several writers, retries, duplicates, poison, lost replies', () => {
  let schema: TestSchema;
  let reader: PgEventReader;

  beforeEach(async () => {
    schema = await createTestSchema('opt');
    reader = new PgEventReader(schema.servicePool);
  });
  afterEach(async () => {
    await schema.drop();
  });

  async function expectDenseValidLog(): Promise<RecordedEvent[]> {
    const head = await reader.head();
    const all: RecordedEvent[] = [];
    for (let after = 0; after < head.position;) {
      const page = await reader.readAll({ after, limit: 5000 });
      all.push(...page);
      after = page[page.length - 1].position;
    }
    expect(all.map((e) => e.position)).toEqual(Array.from({ length: head.position }, (_, i) => i + 1));
    expect(await verifyChain(schema.servicePool)).toMatchObject({ ok: true, checked: head.position });
    return all;
  }

  it('appends a batch with one statement once the head and its streams are known', async () => {
    const pool = createPgPool({ pgUrl: schema.pgUrl, pgSchema: schema.name, pgRole: 'agentos_service', poolSize: 2 });
    const sent: string[] = [];
    const patched = new WeakSet<object>();
    const connect = pool.connect.bind(pool) as () => Promise<import('pg').PoolClient>;
    (pool as unknown as { connect: () => Promise<import('pg').PoolClient> }).connect = async () => {
      const client = await connect();
      if (!patched.has(client)) {
        patched.add(client);
        const query = client.query.bind(client) as (...args: unknown[]) => unknown;
        (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
          const q = args[0] as string | { name?: string; text: string };
          sent.push(typeof q === 'string' ? q.trim().split(/\s+/)[0] : (q.name ?? q.text));
          return query(...args);
        };
      }
      return client;
    };
    try {
      const a = new PgEventAppender(pool);
      await a.appendBatch([one('agent:q1', 0, ev('A', {})), one('agent:q2', 0, ev('A', {}))]);
      expect(sent).toEqual(['agentos_head_catch_up_v2', 'agentos_stream_versions_v1', 'agentos_append_v1']);
      sent.length = 0;
      const outs = await a.appendBatch([
        one('agent:q1', 1, ev('B', {})),
        one('agent:q2', 1, ev('B', {}), ev('C', {}, { idempotencyKey: 'k' })),
        one('agent:q1', 2, ev('D', {})),
      ]);
      expect(outs.map((o) => o.status)).toEqual(['committed', 'committed', 'committed']);
      expect(sent).toEqual(['agentos_append_v1']);
    } finally {
      await pool.end();
    }
  });

  it('keeps two racing appenders on one table correct: dense positions, valid chain, no lost update', async () => {
    const pools = [0, 1].map(() =>
      createPgPool({ pgUrl: schema.pgUrl, pgSchema: schema.name, pgRole: 'agentos_service', poolSize: 3 }),
    );
    const writers = pools.map((p) => new PgEventAppender(p));
    const increments = 40;
    const rounds = [0, 0];
    try {
      await Promise.all(
        writers.map(async (w, wi) => {
          const counterReader = new PgEventReader(pools[wi]);
          for (let done = 0; done < increments;) {
            // read-modify-write of a shared counter stream, plus a stream of the writer's own in the same batch
            const version = await counterReader.streamVersion('counter');
            const [counter, own] = await w.appendBatch([
              one('counter', version, ev('Inc', { wi, done })),
              one(`own:${wi}`, 'any', ev('Tick', { wi, done })),
            ]);
            rounds[wi] += 1;
            expect(own.status).toBe('committed');
            if (counter.status === 'committed') done += 1;
            else expect(counter.status).toBe('conflict');
          }
        }),
      );
      const all = await expectDenseValidLog();
      // every acknowledged increment is there, each at its own version (no lost update)
      const counter = all.filter((e) => e.streamId === 'counter');
      expect(counter.map((e) => e.streamVersion)).toEqual(Array.from({ length: 2 * increments }, (_, i) => i + 1));
      expect(all.filter((e) => e.streamId === 'own:0')).toHaveLength(rounds[0]);
      expect(all.filter((e) => e.streamId === 'own:1')).toHaveLength(rounds[1]);
      expect(all).toHaveLength(2 * increments + rounds[0] + rounds[1]);
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
  });

  it('stays consistent under a randomized mix of writers, retries, conflicts and conditions', async () => {
    let seed = Number(process.env.AGENTOS_TEST_SEED || 7);
    const rnd = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    const pools = [0, 1, 2].map(() =>
      createPgPool({ pgUrl: schema.pgUrl, pgSchema: schema.name, pgRole: 'agentos_service', poolSize: 3 }),
    );
    // three appenders on one table, two sharing a pool: each only knows what it wrote itself
    const writers = [pools[0], pools[1], pools[2], pools[2]].map((p) => new PgEventAppender(p));
    const streams = ['r:a', 'r:b', 'r:c', 'r:d', 'r:e'];
    const sent: { request: AppendRequest; outcome: AppendOutcome }[] = [];
    const believed = new Map<string, number>(); // a possibly stale view of stream versions
    try {
      await Promise.all(
        writers.map(async (w) => {
          for (let round = 0; round < 25; round++) {
            const batch: AppendRequest[] = [];
            for (let k = 0, n = 1 + Math.floor(rnd() * 4); k < n; k++) {
              const previous = sent.length > 0 && rnd() < 0.15 ? sent[Math.floor(rnd() * sent.length)] : null;
              if (previous) {
                batch.push(structuredClone(previous.request)); // a retry: same ids and keys
                continue;
              }
              const stream = streams[Math.floor(rnd() * streams.length)];
              const expected = rnd() < 0.4 ? ('any' as const) : (believed.get(stream) ?? 0);
              const keyed = rnd() < 0.5 ? { idempotencyKey: `k-${randomUUID()}` } : {};
              const request: AppendRequest = {
                appends: [{ streamId: stream, expectedVersion: expected, events: [ev('R', { round }, keyed)] }],
              };
              if (rnd() < 0.2) {
                const other = streams.find((x) => x !== stream)!;
                request.conditions = [{ streamId: other, version: believed.get(other) ?? 0 }];
              }
              batch.push(request);
            }
            const outs = await w.appendBatch(batch);
            outs.forEach((outcome, i) => {
              sent.push({ request: batch[i], outcome });
              if (outcome.status === 'committed') {
                for (const e of outcome.events)
                  believed.set(e.streamId, Math.max(believed.get(e.streamId) ?? 0, e.streamVersion));
              } else if (outcome.status === 'conflict' || outcome.status === 'condition_failed') {
                believed.set(outcome.streamId, outcome.actualVersion);
              }
            });
          }
        }),
      );
      const all = await expectDenseValidLog();
      // every stream's versions are 1..n with no gap and no repeat
      for (const stream of streams) {
        const versions = all.filter((e) => e.streamId === stream).map((e) => e.streamVersion);
        expect(versions).toEqual(Array.from({ length: versions.length }, (_, i) => i + 1));
      }
      // every committed outcome (new or duplicate) names events that are in the log exactly there
      const byId = new Map(all.map((e) => [e.eventId, e]));
      expect(byId.size).toBe(all.length);
      let duplicates = 0;
      let refusals = 0;
      for (const { request, outcome } of sent) {
        if (outcome.status === 'committed') {
          if (outcome.duplicate) duplicates += 1;
          for (const c of outcome.events) {
            expect(byId.get(c.eventId)).toMatchObject({
              position: c.position,
              streamVersion: c.streamVersion,
              streamId: c.streamId,
            });
          }
          if (!outcome.duplicate)
            expect(outcome.events.map((c) => c.eventId)).toEqual(request.appends[0].events.map((e) => e.eventId));
        } else {
          expect(['conflict', 'condition_failed']).toContain(outcome.status);
          refusals += 1;
          // a refused request left nothing behind (unless a retry of it committed earlier or later)
          const id = request.appends[0].events[0].eventId;
          const committedElsewhere = sent.some(
            (x) => x.outcome.status === 'committed' && x.outcome.events.some((c) => c.eventId === id),
          );
          expect(byId.has(id)).toBe(committedElsewhere);
        }
      }
      expect(duplicates).toBeGreaterThan(0);
      expect(refusals).toBeGreaterThan(0);
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
  });

  it('retries after another writer moved the head, with versions caught up from the log', async () => {
    const a = new PgEventAppender(schema.servicePool);
    const b = new PgEventAppender(schema.servicePool);
    expect((await a.append(one('agent:s', 0, ev('A1', {})))).status).toBe('committed');
    expect((await a.append(one('agent:t', 0, ev('A2', {})))).status).toBe('committed');
    // b moves the head and both streams; a's cache is now stale
    expect((await b.append(one('agent:s', 1, ev('B1', {})))).status).toBe('committed');
    expect((await b.append(one('agent:t', 'any', ev('B2', {}), ev('B3', {})))).status).toBe('committed');
    // a's first try fails on the head, it catches up (s at 2, t at 3) and commits at the right place
    const next = await a.append({
      appends: [
        { streamId: 'agent:s', expectedVersion: 2, events: [ev('A3', {})] },
        { streamId: 'agent:t', expectedVersion: 3, events: [ev('A4', {})] },
      ],
    });
    expect(next).toMatchObject({
      status: 'committed',
      duplicate: false,
      events: [
        { streamId: 'agent:s', streamVersion: 3, position: 6 },
        { streamId: 'agent:t', streamVersion: 4, position: 7 },
      ],
    });
    // and a conflict computed from a stale cache is never reported: b writes again, a expects the old version
    expect((await b.append(one('agent:s', 3, ev('B4', {})))).status).toBe('committed');
    expect(await a.append(one('agent:s', 3, ev('A5', {})))).toEqual({
      status: 'conflict',
      streamId: 'agent:s',
      expectedVersion: 3,
      actualVersion: 4,
    });
    expect(
      await a.append({
        appends: [{ streamId: 'agent:u', expectedVersion: 'any', events: [ev('A6', {})] }],
        conditions: [{ streamId: 'agent:s', version: 4 }],
      }),
    ).toMatchObject({ status: 'committed' });
    await expectDenseValidLog();
  });

  it('answers retries on the fast path with the original positions (by event id and by key), in a batch with new requests', async () => {
    const a = new PgEventAppender(schema.servicePool);
    const byId = ev('W', { n: 1 });
    const byKey = ev('W', { n: 2 }, { idempotencyKey: 'req:7' });
    const [first1, first2] = await a.appendBatch([one('agent:d', 0, byId), one('agent:d', 'any', byKey)]);
    expect(first1.status === 'committed' && first2.status === 'committed').toBe(true);
    if (first1.status !== 'committed' || first2.status !== 'committed') return;
    const headBefore = (await reader.head()).position;

    // 'any': the fast statement runs and fails on a unique index; 0: the version check fails
    // first and the retry is recognised before any statement
    const cases = [
      { writer: a, expected: 'any' as const },
      { writer: new PgEventAppender(schema.servicePool), expected: 'any' as const },
      { writer: a, expected: 0 },
      { writer: new PgEventAppender(schema.servicePool), expected: 0 },
    ];
    for (const { writer, expected } of cases) {
      const outs = await writer.appendBatch([
        one('agent:new1', 'any', ev('N', {})),
        one('agent:d', expected, { ...byId }), // same event id: a retry
        one('agent:d', expected, ev('W', { n: 3 }, { idempotencyKey: 'req:7' })), // same key, new id
        one('agent:new2', 'any', ev('N', {})),
      ]);
      expect(outs.map((o) => o.status)).toEqual(['committed', 'committed', 'committed', 'committed']);
      expect(outs[1]).toMatchObject({ duplicate: true, events: first1.events });
      expect(outs[2]).toMatchObject({ duplicate: true, events: first2.events });
      expect(outs[0]).toMatchObject({ duplicate: false });
      expect(outs[3]).toMatchObject({ duplicate: false });
    }
    expect((await reader.head()).position).toBe(headBefore + 2 * cases.length);
    expect(await reader.streamVersion('agent:d')).toBe(2);
    // a retry alone, and one whose expected version fails: still the original positions
    expect(await a.append(one('agent:d', 5, { ...byId }))).toMatchObject({ duplicate: true, events: first1.events });
    await expectDenseValidLog();
  });

  it('isolates a request the database refuses: the others of the batch commit', async () => {
    await schema.ownerPool.query(`ALTER TABLE events ADD CONSTRAINT test_no_poison CHECK (type <> 'Poison')`);
    const a = new PgEventAppender(schema.servicePool);
    await a.append(one('agent:warm', 0, ev('W', {})));
    const outs = await a.appendBatch([
      one('agent:p1', 0, ev('G', {})),
      one('agent:p2', 0, ev('Poison', {})),
      one('agent:p3', 0, ev('G', {})),
      one('agent:p1', 0, ev('G', {})), // decided after the first: a conflict
    ]);
    expect(outs.map((o) => o.status)).toEqual(['committed', 'rejected', 'committed', 'conflict']);
    expect(outs[1]).toMatchObject({ reason: expect.stringMatching(/test_no_poison/) });
    expect(await reader.streamVersion('agent:p2')).toBe(0);
    // and the writer goes on appending on the fast path
    expect((await a.append(one('agent:p1', 1, ev('G', {})))).status).toBe('committed');
    await expectDenseValidLog();
  });

  it('refuses requests whose deadline passed before their statement could start', async () => {
    const a = new PgEventAppender(schema.servicePool);
    const results = await a.appendBatchSettled(
      [one('agent:late', 0, ev('L', {})), one('agent:ontime', 0, ev('O', {}))],
      [Date.now() - 1, Date.now() + 60_000],
    );
    expect(results[0]).toBeInstanceOf(EventStoreUnavailableError);
    expect(results[1]).toMatchObject({ status: 'committed' });
    expect(await reader.streamVersion('agent:late')).toBe(0);
  });

  describe('a lost reply', () => {
    let proxy: BlackholeProxy;
    let pool: ReturnType<typeof createPgPool>;

    beforeEach(async () => {
      const target = new URL(TEST_PG_URL);
      proxy = new BlackholeProxy(target.hostname, Number(target.port || 5432));
      await proxy.start();
      const via = new URL(TEST_PG_URL);
      via.hostname = '127.0.0.1';
      via.port = String(proxy.port);
      pool = createPgPool({ pgUrl: via.toString(), pgSchema: schema.name, pgRole: 'agentos_service', poolSize: 3 });
    });
    afterEach(async () => {
      await pool.end().catch(() => undefined);
      await proxy.close();
    });

    it('is resolved as committed when the statement committed', async () => {
      const a = new PgEventAppender(pool, { resolveTimeoutMs: 10_000 });
      await a.append(one('agent:lost', 0, ev('A', {}))); // head and version cached: the next append is one statement
      proxy.blackhole('replies');
      const pending = a.append(one('agent:lost', 1, ev('B', { lost: 'reply' })));
      await waitFor(async () => (await reader.streamVersion('agent:lost')) === 2);
      proxy.dropConnections();
      const out = await pending;
      expect(out).toMatchObject({ status: 'committed', duplicate: false, events: [{ streamVersion: 2, position: 2 }] });
      await expectDenseValidLog();
      // the writer recovers (its cache was dropped) and goes on
      proxy.blackhole(null);
      expect(await a.append(one('agent:lost', 2, ev('C', {})))).toMatchObject({ status: 'committed' });
    });

    it('is resolved as not committed (and says so) when the statement never ran', async () => {
      const a = new PgEventAppender(pool, { resolveTimeoutMs: 10_000 });
      await a.append(one('agent:lost', 0, ev('A', {})));
      proxy.blackhole('requests');
      const pending = a.append(one('agent:lost', 1, ev('B', {})));
      await new Promise((r) => setTimeout(r, 300));
      proxy.dropConnections();
      const err = await pending.then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(EventStoreUnavailableError);
      expect((err as EventStoreUnavailableError).outcomeUnknown).toBe(false);
      expect(await reader.streamVersion('agent:lost')).toBe(1);
      proxy.blackhole(null);
      expect(await a.append(one('agent:lost', 1, ev('B2', {})))).toMatchObject({ status: 'committed' });
      await expectDenseValidLog();
    });
  });
});

async function waitFor(cond: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * A TCP proxy that can swallow what flows one way (the statement, or its reply) and then drop
 * every open connection, while still accepting new ones: a reply lost in the network.
 */
class BlackholeProxy {
  private server: net.Server | null = null;
  private readonly pairs = new Set<[net.Socket, net.Socket]>();
  private hole: 'requests' | 'replies' | null = null;
  port = 0;

  constructor(
    private readonly host: string,
    private readonly targetPort: number,
  ) {}

  async start(): Promise<void> {
    this.server = net.createServer((client) => {
      const upstream = net.connect(this.targetPort, this.host);
      const pair: [net.Socket, net.Socket] = [client, upstream];
      this.pairs.add(pair);
      const close = () => {
        client.destroy();
        upstream.destroy();
        this.pairs.delete(pair);
      };
      client.on('error', close).on('close', close);
      upstream.on('error', close).on('close', close);
      client.on('data', (d) => {
        if (this.hole !== 'requests') upstream.write(d);
      });
      upstream.on('data', (d) => {
        if (this.hole !== 'replies') client.write(d);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', () => resolve()));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  /** From now on, what flows this way is lost (null: nothing is). */
  blackhole(direction: 'requests' | 'replies' | null): void {
    this.hole = direction;
  }

  /** Drops every open connection and lets traffic through again (new connections work). */
  dropConnections(): void {
    for (const [c, u] of this.pairs) {
      c.destroy();
      u.destroy();
    }
    this.pairs.clear();
    this.hole = null;
  }

  async close(): Promise<void> {
    this.dropConnections();
    await new Promise<void>((r) => this.server?.close(() => r()));
  }
}
