import { randomUUID } from 'node:crypto';
import {
  EventStoreUnavailableError,
  GENESIS_HASH,
  LogFollower,
  PgEventAppender,
  PgEventReader,
  createPgPool,
  verifyChain,
  type AppendRequest,
  type NewEvent,
  type RecordedEvent,
} from '#event-store';
import { createTestSchema, type TestSchema } from '../support/test-schema.js';

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
