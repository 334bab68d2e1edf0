import { randomUUID } from 'node:crypto';
import { connect } from '@nats-io/transport-node';
import { Subjects, partitionOf, type RecorderAppendBatchReply, type RecorderHeadReply } from '#contracts';
import { LocalStack } from '#devstack';
import type { AppendOutcome, RecordedEvent } from '#event-store';
import { openLogDb } from '../support/log-db.js';
import { PrivateNatsServer } from '../support/private-nats-server.js';
import { TcpProxy, pgTarget } from '../support/tcp-proxy.js';
import { TEST_PARTITIONS, TEST_PG_URL, uniqueName } from '../support/test-env.js';
import { startTestStack, type TestStack } from '../support/test-stack.js';

function appendBody(streamId: string, expectedVersion: number | 'any', n = 1, key?: string) {
  return {
    appends: [
      {
        streamId,
        expectedVersion,
        events: Array.from({ length: n }, (_, i) => ({
          eventId: randomUUID(),
          type: 'ToolRegistered',
          schemaVersion: 1,
          data: { name: `tool-${i}`, description: null, at: new Date().toISOString() },
          metadata: { service: 'e2e' },
          ...(key && i === 0 ? { idempotencyKey: key } : {}),
        })),
      },
    ],
  };
}

/** The partitions of this run's log, 0 first (just 0 with one partition). */
const PARTITIONS = Array.from({ length: TEST_PARTITIONS }, (_, p) => p);
/** Names partition `p` in a read, head or verify request: only when the log has several, as with one it is absent. */
const inPartition = (p: number) => (TEST_PARTITIONS > 1 ? { partition: p } : {});

describe('recorder over real NATS and Postgres', () => {
  let t: TestStack;
  /** Every partition's head position, partition 0 first. */
  const heads = async (): Promise<number[]> => {
    const h = await t.request<RecorderHeadReply>(Subjects.recorderHead, {});
    return TEST_PARTITIONS > 1 ? h.heads!.map((x) => x.position) : [h.position];
  };

  beforeAll(async () => {
    t = await startTestStack({ services: ['recorder'] });
  });
  afterAll(async () => {
    await t.close();
  });

  it('appends over NATS and replies with the committed positions', async () => {
    const r = await t.request<AppendOutcome>(Subjects.recorderAppend, appendBody('agent:rt', 0, 3));
    expect(r.status).toBe('committed');
    if (r.status !== 'committed') return;
    expect(r.events.map((e) => e.streamVersion)).toEqual([1, 2, 3]);
    // committed before the reply: a reader sees it at once
    const read = await t.request<{ events: RecordedEvent[] }>(Subjects.recorderReadStream, { streamId: 'agent:rt' });
    expect(read.events.map((e) => e.position)).toEqual(r.events.map((e) => e.position));
  });

  it('answers conflicts and idempotent retries as outcomes', async () => {
    await t.request(Subjects.recorderAppend, appendBody('agent:occ', 0));
    const conflict = await t.request<AppendOutcome>(Subjects.recorderAppend, appendBody('agent:occ', 0));
    expect(conflict).toEqual({ status: 'conflict', streamId: 'agent:occ', expectedVersion: 0, actualVersion: 1 });

    const first = await t.request<AppendOutcome>(Subjects.recorderAppend, appendBody('agent:occ', 'any', 1, 'k1'));
    const retry = await t.request<AppendOutcome>(Subjects.recorderAppend, appendBody('agent:occ', 'any', 1, 'k1'));
    expect(retry).toMatchObject({ status: 'committed', duplicate: true });
    if (first.status === 'committed' && retry.status === 'committed') {
      expect(retry.events[0].position).toBe(first.events[0].position);
    }
  });

  it('queries by global position range and reports the head', async () => {
    // each partition has its own dense positions, head and chain (one partition: the whole log)
    let total = 0;
    for (const p of PARTITIONS) {
      const head = await t.request<{ position: number; hash: string }>(Subjects.recorderHead, inPartition(p));
      total += head.position;
      const all = await t.request<{ events: RecordedEvent[] }>(Subjects.recorderReadAll, {
        ...inPartition(p),
        after: 0,
        ...(head.position > 0 ? { toPosition: head.position } : {}), // a partition may have no events yet
      });
      expect(all.events.map((e) => e.position)).toEqual(Array.from({ length: head.position }, (_, i) => i + 1));
      expect(all.events.every((e) => e.partition === p)).toBe(true);
      const page = await t.request<{ events: RecordedEvent[] }>(Subjects.recorderReadAll, {
        ...inPartition(p),
        after: 2,
        limit: 2,
      });
      expect(page.events.map((e) => e.position)).toEqual([3, 4].filter((x) => x <= head.position));
      const verify = await t.request<{ ok: boolean; checked: number }>(Subjects.recorderVerify, inPartition(p));
      expect(verify).toMatchObject({ ok: true, checked: head.position, ...inPartition(p) });
    }
    expect(total).toBeGreaterThanOrEqual(4); // the five events appended above
  });

  it('answers bad input with an error code and stays up', async () => {
    expect(await t.requestRaw(Subjects.recorderAppend, '{not json')).toEqual({
      error: { code: -5, message: 'body is not valid UTF-8 JSON' },
    });
    expect(await t.requestRaw(Subjects.recorderAppend, '[1,2]')).toMatchObject({ error: { code: -5 } });
    expect(await t.request(Subjects.recorderAppend, { appends: [] })).toMatchObject({ error: { code: -5 } });
    expect(
      await t.request(Subjects.recorderAppend, { appends: [{ streamId: 'a', expectedVersion: -3, events: [] }] }),
    ).toMatchObject({ error: { code: -5 } });
    expect(await t.request(Subjects.recorderReadAll, { limit: 'lots' })).toMatchObject({ error: { code: -5 } });
    expect(await t.requestRaw(Subjects.recorderAppend, 'x'.repeat(300 * 1024))).toMatchObject({ error: { code: -5 } });
    const deepBody = `{"appends":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    expect(await t.requestRaw(Subjects.recorderAppend, deepBody)).toMatchObject({ error: { code: -5 } });
    expect(
      await t.requestRaw(Subjects.recorderReadAll, `{"types":${'['.repeat(100_000)}${']'.repeat(100_000)}}`),
    ).toMatchObject({
      error: { code: -5 },
    });
    const ok = await t.request<AppendOutcome>(Subjects.recorderAppend, appendBody('agent:after-bad', 0));
    expect(ok.status).toBe('committed');
  });

  it('refuses malformed, unknown, deep and forged-shape events before they enter the log', async () => {
    const before = await heads();
    const event = (type: string, schemaVersion: number, data: unknown) => ({
      appends: [
        {
          streamId: 'agent:victim',
          expectedVersion: 'any',
          events: [{ eventId: randomUUID(), type, schemaVersion, data, metadata: {} }],
        },
      ],
    });
    const deep = `${'['.repeat(100_000)}1${']'.repeat(100_000)}`;
    const refused = [
      event('SyscallRecorded', 1, {}),
      event('SyscallRecorded', 2, { requestId: 'x', syscall: 'SYS_WRITE', args: {}, decision: 'allow' }),
      event('SignalDelivered', 1, {
        signal: '__proto__',
        number: 4,
        source: 'x',
        reason: '',
        outcome: 'default',
        at: 'x',
      }),
      event('AgentCreated', 1, { agentId: 'bad id', role: 'r', at: new Date().toISOString() }),
      event('NoSuchEvent', 1, { anything: true }),
      event('AgentCreated', 7, { agentId: 'a', role: 'r', at: new Date().toISOString() }),
    ].map((b) => JSON.stringify(b));
    // 100,000 levels deep: written as text, a recursive JSON.stringify could not even build it
    refused.push(
      JSON.stringify(
        event('ToolRegistered', 1, { name: 'ok', description: 'DEEP', at: new Date().toISOString() }),
      ).replace('"DEEP"', deep),
    );
    for (const raw of refused) {
      const r = await t.requestRaw(Subjects.recorderAppend, raw);
      expect(r).toMatchObject({ error: { code: -5 } });
      expect(String((r as { error: { message: string } }).error.message)).toMatch(
        /^append refused: |nested deeper than/,
      );
    }
    // nothing of it entered the log (no partition moved), and the recorder still appends and reads
    expect(await heads()).toEqual(before);
    const ok = await t.request<AppendOutcome>(Subjects.recorderAppend, appendBody('agent:after-forged', 0));
    expect(ok.status).toBe('committed');
    for (const p of PARTITIONS) {
      const read = await t.request<{ events: RecordedEvent[] }>(Subjects.recorderReadAll, {
        ...inPartition(p),
        after: before[p],
      });
      expect(read.events.map((e) => e.streamId)).toEqual(
        ['agent:after-forged'].filter((s) => partitionOf(s, TEST_PARTITIONS) === p),
      );
    }
  });

  it('appends a batch message: each request validated and answered on its own, in order', async () => {
    const first = await t.request<AppendOutcome>(Subjects.recorderAppend, appendBody('agent:batch', 0, 1, 'bk1'));
    expect(first.status).toBe('committed');
    const before = await heads();
    const retry = appendBody('agent:batch', 'any', 1, 'bk1'); // same key: a retry of `first`
    const invalidShape = { appends: [{ streamId: 'agent:batch-x', expectedVersion: -1, events: [] }] };
    const unknownType = appendBody('agent:batch-y', 0);
    unknownType.appends[0].events[0].type = 'NoSuchEvent';
    const reply = await t.request<RecorderAppendBatchReply>(Subjects.recorderAppendBatch(0), {
      deadline: Date.now() + 30_000,
      requests: [
        appendBody('agent:batch', 1, 2), // valid: versions 2, 3
        invalidShape,
        appendBody('agent:batch', 1), // conflicts with the first request of this batch
        retry,
        'not a request',
        unknownType,
        appendBody('agent:batch-z', 0), // valid
      ],
    });
    const o = reply.outcomes;
    expect(o).toHaveLength(7);
    expect(o[0]).toMatchObject({
      status: 'committed',
      duplicate: false,
      events: [{ streamVersion: 2 }, { streamVersion: 3 }],
    });
    expect(o[1]).toMatchObject({ error: { code: -5, message: expect.stringMatching(/^append refused: /) } });
    expect(o[2]).toEqual({ status: 'conflict', streamId: 'agent:batch', expectedVersion: 1, actualVersion: 3 });
    expect(o[3]).toMatchObject({ status: 'committed', duplicate: true });
    if (first.status === 'committed' && 'events' in o[3]) expect(o[3].events).toEqual(first.events);
    expect(o[4]).toMatchObject({ error: { code: -5 } });
    expect(o[5]).toMatchObject({ error: { code: -5, message: expect.stringMatching(/unknown event type/) } });
    expect(o[6]).toMatchObject({
      status: 'committed',
      duplicate: false,
      events: [{ streamId: 'agent:batch-z', streamVersion: 1 }],
    });
    // exactly the three new events entered the log, densely after the head (of their partition)
    const added: [string, number][] = [
      ['agent:batch', 2],
      ['agent:batch', 3],
      ['agent:batch-z', 1],
    ];
    for (const p of PARTITIONS) {
      const read = await t.request<{ events: RecordedEvent[] }>(Subjects.recorderReadAll, {
        ...inPartition(p),
        after: before[p],
      });
      const here = added.filter(([s]) => partitionOf(s, TEST_PARTITIONS) === p);
      expect(read.events.map((e) => [e.streamId, e.streamVersion])).toEqual(here);
      expect(read.events.map((e) => e.position)).toEqual(here.map((_, i) => before[p] + i + 1));
    }

    // the whole message is refused only when it is not a batch at all
    expect(await t.request(Subjects.recorderAppendBatch(0), { requests: 'x' })).toMatchObject({ error: { code: -5 } });
    expect(await t.request(Subjects.recorderAppendBatch(0), { requests: [], deadline: 'soon' })).toMatchObject({
      error: { code: -5 },
    });
    expect(await t.requestRaw(Subjects.recorderAppendBatch(0), '{nope')).toMatchObject({ error: { code: -5 } });
    expect(await t.request(Subjects.recorderAppendBatch(0), { requests: [] })).toEqual({ outcomes: [] });
    // a deadline already past: nothing recorded, -7 for each request
    const late = await t.request<RecorderAppendBatchReply>(Subjects.recorderAppendBatch(0), {
      deadline: Date.now() - 1000,
      requests: [appendBody('agent:batch-late', 0)],
    });
    expect(late.outcomes).toEqual([{ error: expect.objectContaining({ code: -7 }) }]);
    const verify = await t.request<{ ok: boolean }>(Subjects.recorderVerify, {});
    expect(verify.ok).toBe(true);
  });

  it('answers hostile batch messages with a well-formed reply per request, never -4', async () => {
    let seed = 20261130;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)];
    const hostile: unknown[] = [
      null,
      true,
      0,
      -1,
      1e308,
      '',
      'x'.repeat(5000),
      [],
      {},
      [[[[[]]]]],
      { __proto__: { polluted: true } },
      JSON.parse('{"__proto__":{"appends":[]}}'),
      { constructor: 'x', toString: 1 },
      '\u0000',
      '\ud800',
    ];
    const mutate = (body: Record<string, any>): unknown => {
      const a = body.appends[0];
      const e = a.events[0];
      switch (Math.floor(rnd() * 10)) {
        case 0:
          return pick(hostile);
        case 1:
          return { ...body, appends: pick(hostile) };
        case 2:
          return { ...body, appends: [{ ...a, streamId: pick(hostile) }] };
        case 3:
          return { ...body, appends: [{ ...a, expectedVersion: pick(hostile) }] };
        case 4:
          return { ...body, appends: [{ ...a, events: [{ ...e, data: pick(hostile) }] }] };
        case 5:
          return { ...body, appends: [{ ...a, events: [{ ...e, eventId: pick(hostile) }] }] };
        case 6:
          return { ...body, appends: [{ ...a, events: [{ ...e, idempotencyKey: pick(hostile) }] }] };
        case 7:
          return { ...body, conditions: pick(hostile) };
        case 8:
          return { ...body, deadline: pick(hostile) };
        default:
          return body;
      }
    };
    for (let round = 0; round < 40; round++) {
      const requests = Array.from({ length: 1 + Math.floor(rnd() * 6) }, (_, i) =>
        mutate(appendBody(`agent:hb${round % 5}`, 'any', 1, rnd() < 0.3 ? `hk${i}` : undefined)),
      );
      const reply = await t.requestRaw(Subjects.recorderAppendBatch(0), JSON.stringify({ requests }));
      expect(reply.error).toBeUndefined();
      const outcomes = reply.outcomes as Record<string, any>[];
      expect(outcomes).toHaveLength(requests.length);
      for (const o of outcomes) {
        if (o.error) expect([-5, -7]).toContain(o.error.code);
        else expect(['committed', 'conflict', 'condition_failed', 'rejected']).toContain(o.status);
      }
    }
    // deeper than any single append may be, as a whole message: refused whole, and the recorder is fine
    const deep = `{"requests":[${'['.repeat(100)}${']'.repeat(100)}]}`;
    expect(await t.requestRaw(Subjects.recorderAppendBatch(0), deep)).toMatchObject({ error: { code: -5 } });
    expect(await t.requestRaw(Subjects.recorderAppendBatch(0), '[1]')).toMatchObject({ error: { code: -5 } });
    expect((await t.request<{ ok: boolean }>(Subjects.recorderVerify, {})).ok).toBe(true);
  });

  it('group-commits concurrent appends: many events share a transaction', async () => {
    const before = await metric(t.stack.running('recorder')[0].httpPort, 'agentos_recorder_batch_events');
    const outs = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        t.request<AppendOutcome>(Subjects.recorderAppend, appendBody(`agent:gc${i % 20}`, 'any')),
      ),
    );
    expect(outs.every((o) => o.status === 'committed')).toBe(true);
    const after = await metric(t.stack.running('recorder')[0].httpPort, 'agentos_recorder_batch_events');
    const events = after.sum - before.sum;
    const transactions = after.count - before.count;
    expect(events).toBe(200);
    expect(transactions).toBeLessThan(200);
  });
});

describe('recorder failures', () => {
  it('replies -7 while Postgres is unreachable, writes nothing, and recovers without a restart', async () => {
    const target = pgTarget(TEST_PG_URL);
    const proxy = new TcpProxy(target.host, target.port);
    await proxy.start();
    const t = await startTestStack({ pgUrl: target.via(proxy.port) });
    try {
      await t.stack.start('recorder');
      const ok = await t.request<AppendOutcome>(Subjects.recorderAppend, appendBody('agent:pgdown', 0));
      expect(ok.status).toBe('committed');

      await proxy.cut();
      const during = await Promise.all(
        Array.from({ length: 10 }, () =>
          t.request<Record<string, any>>(Subjects.recorderAppend, appendBody('agent:pgdown', 'any')),
        ),
      );
      for (const r of during) expect(r.error).toMatchObject({ code: -7 });

      await proxy.restore();
      let recovered: AppendOutcome | undefined;
      for (let i = 0; i < 50 && recovered?.status !== 'committed'; i++) {
        const r = await t.request<AppendOutcome & { error?: unknown }>(
          Subjects.recorderAppend,
          appendBody('agent:pgdown', 1),
        );
        if (!r.error) recovered = r;
        else await new Promise((res) => setTimeout(res, 200));
      }
      // expectedVersion 1 succeeded: none of the failed appends left anything behind
      expect(recovered).toMatchObject({ status: 'committed', events: [{ streamVersion: 2 }] });
      expect(t.stack.running('recorder')).toHaveLength(1);
      const db = await openLogDb(t.schema);
      for (const v of await db.verify()) expect(v).toMatchObject({ partition: v.partition, ok: true });
      await db.end();
    } finally {
      await t.close();
      await proxy.close();
    }
  });

  it('reconnects to NATS on its own after the NATS server restarts', async () => {
    const nats = new PrivateNatsServer();
    await nats.start();
    const t = await startTestStack({ natsUrl: nats.url });
    try {
      await t.stack.start('recorder');
      expect((await t.request<AppendOutcome>(Subjects.recorderAppend, appendBody('agent:natsdown', 0))).status).toBe(
        'committed',
      );
      await nats.stop();
      await new Promise((r) => setTimeout(r, 500));
      await nats.start(nats.port);
      let r: AppendOutcome | undefined;
      for (let i = 0; i < 100 && !r; i++) {
        try {
          r = await t.request<AppendOutcome>(Subjects.recorderAppend, appendBody('agent:natsdown', 1), 1000);
        } catch {
          await new Promise((res) => setTimeout(res, 100));
        }
      }
      expect(r).toMatchObject({ status: 'committed', events: [{ streamVersion: 2 }] });
    } finally {
      await t.close();
      await nats.stop();
    }
  });

  it('keeps every acknowledged append when killed with SIGKILL mid-load, and drains in-flight appends on SIGTERM', async () => {
    const schema = uniqueName('e2e_kill').toLowerCase();
    const prefix = uniqueName('tk').replace(/_/g, '-');
    const stack = await LocalStack.create({
      pgUrl: TEST_PG_URL,
      natsUrl: 'nats://127.0.0.1:4222',
      schema,
      subjectPrefix: prefix,
      partitions: TEST_PARTITIONS,
    });
    const nc = await connect({ servers: 'nats://127.0.0.1:4222' });
    const subject = `${prefix}.v1.recorder.append`;
    const acked = new Set<string>();
    try {
      const victim = await stack.start('recorder');
      let stop = false;
      const load = Promise.all(
        Array.from({ length: 32 }, async (_, w) => {
          while (!stop) {
            const body = appendBody(`agent:k${w}`, 'any');
            try {
              const r = (await nc.request(subject, JSON.stringify(body), { timeout: 2000 })).json<AppendOutcome>();
              if (r.status === 'committed') acked.add(body.appends[0].events[0].eventId);
            } catch {
              await new Promise((res) => setTimeout(res, 20));
            }
          }
        }),
      );
      await new Promise((r) => setTimeout(r, 800));
      await victim.kill();
      const ackedAtKill = acked.size;
      await stack.start('recorder');
      await new Promise((r) => setTimeout(r, 800));
      // graceful stop under load: every request it took gets its reply, exit code 0
      const second = stack.running('recorder')[0];
      const code = await second.stop();
      stop = true;
      await load;
      expect(code).toBe(0);
      expect(ackedAtKill).toBeGreaterThan(0);

      const db = await openLogDb(schema); // every partition of the log
      const ids = new Set((await db.query<{ id: string }>('SELECT event_id::text AS id FROM events')).map((r) => r.id));
      const lost = [...acked].filter((id) => !ids.has(id));
      expect(lost).toEqual([]);
      for (const v of await db.verify()) expect(v).toMatchObject({ partition: v.partition, ok: true });
      await db.end();
    } finally {
      await nc.close();
      await stack.destroy();
    }
  });
});

/** A histogram's sum and count over all its series (one per partition). */
async function metric(port: number, name: string): Promise<{ sum: number; count: number }> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const total = (suffix: string) =>
    [...text.matchAll(new RegExp(`^${name}_${suffix}\\{[^}]*\\} (\\S+)$`, 'gm'))].reduce((n, m) => n + Number(m[1]), 0);
  return { sum: total('sum'), count: total('count') };
}
