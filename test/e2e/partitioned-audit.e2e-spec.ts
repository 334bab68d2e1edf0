import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type pg from 'pg';
import { EventTypes, Subjects, agentPartition, type SyscallReply } from '#contracts';
import { createPgPool, eventHash, partitionSchema, type RecordedEvent } from '#event-store';
import { runCli } from '../support/cli.js';
import { TEST_PG_URL } from '../support/test-env.js';
import { startTestStack, type TestStack } from '../support/test-stack.js';
import { waitFor } from '../support/wait-for.js';

/**
 * Compliance over a log of four partitions, through the command line and the recorder: every
 * partition's chain verified, one signed checkpoint over every head that catches a partition
 * rewritten consistently, a row moved between partitions, and the audit query paging through
 * the whole log exactly once in the documented merged order, a signal's cause before its delivery.
 */
const P = 4;

/** An agent id whose stream lives in partition `p`. */
function idIn(p: number, prefix: string): string {
  for (let i = 0; ; i++) if (agentPartition(`${prefix}${i}`, P) === p) return `${prefix}${i}`;
}

interface Row {
  position: number;
  stream_id: string;
  stream_version: number;
  event_id: string;
  idempotency_key: string | null;
  type: string;
  schema_version: number;
  data: string;
  metadata: string;
  recorded_at: Date;
  prev_hash: string;
  hash: string;
}

const COLUMNS = `position, stream_id, stream_version, event_id::text AS event_id, idempotency_key, type, schema_version,
  data, metadata, recorded_at, prev_hash, hash`;

function hashOf(r: Row, position: number, prevHash: string): string {
  return eventHash({
    position,
    streamId: r.stream_id,
    streamVersion: r.stream_version,
    eventId: r.event_id,
    idempotencyKey: r.idempotency_key,
    type: r.type,
    schemaVersion: r.schema_version,
    dataJson: r.data,
    metadataJson: r.metadata,
    recordedAt: r.recorded_at.toISOString(),
    prevHash,
  });
}

describe('compliance across partitions', () => {
  let t: TestStack;
  let dir: string;
  let env: Record<string, string>;
  let owners: pg.Pool[] = [];
  /** One agent in every partition: agents[p] lives in partition p. */
  const agents = Array.from({ length: P }, (_, p) => idIn(p, 'pa'));
  let n = 0;
  const sys = (agentId: string, syscall: string, args: Record<string, unknown> = {}) =>
    t.request<SyscallReply>(Subjects.syscall(agentId), { id: `p${++n}`, syscall, args });
  const cli = (...args: string[]) => runCli(args, env);
  const json = async (...args: string[]) => {
    const r = await cli('--json', ...args);
    if (r.stderr.includes('agentos:')) throw new Error(r.stderr);
    return JSON.parse(r.stdout);
  };
  /** An attacker's write with the database owner's rights: past the append-only triggers. */
  const tamper = async (p: number, fn: (c: pg.PoolClient) => Promise<void>) => {
    const c = await owners[p].connect();
    try {
      await c.query('BEGIN');
      await c.query('SET LOCAL session_replication_role = replica');
      await fn(c);
      await c.query('COMMIT');
    } finally {
      c.release();
    }
  };
  /** The documented order of the whole log: recorded time, then partition, then position. */
  const mergedFromDb = async () => {
    const rows = (
      await Promise.all(
        owners.map(async (pool, partition) =>
          (await pool.query<Row>(`SELECT ${COLUMNS} FROM events ORDER BY position`)).rows.map((r) => ({
            ...r,
            partition,
          })),
        ),
      )
    ).flat();
    return rows.sort(
      (a, b) =>
        a.recorded_at.getTime() - b.recorded_at.getTime() || a.partition - b.partition || a.position - b.position,
    );
  };

  beforeAll(async () => {
    t = await startTestStack({
      services: ['recorder', 'vfs', 'policy', 'kernel'],
      partitions: P,
      env: { AGENTOS_SIGNAL_RELAY_MS: '200' },
    });
    owners = Array.from({ length: P }, (_, p) =>
      createPgPool({ pgUrl: TEST_PG_URL, pgSchema: partitionSchema(t.schema, p), pgRole: '' }),
    );
    dir = mkdtempSync(path.join(os.tmpdir(), 'agentos-paudit-'));
    env = {
      AGENTOS_NATS_URL: `nats://${t.nc.getServer().replace(/^nats:\/\//, '')}`,
      AGENTOS_SUBJECT_PREFIX: t.prefix,
    };
    for (const a of agents) await t.request(Subjects.adminAgentsCreate, { agentId: a, role: 'writer' });
    for (let round = 0; round < 3; round++)
      for (const a of agents)
        expect(await sys(a, 'SYS_WRITE', { path: '/mem/working/n', data: `${a} ${round}\n`, mode: 'a' })).toMatchObject(
          { success: true },
        );
    // a signal from partition 1 to partition 2: a SignalSent there, its SignalDelivered here
    const sent = await sys(agents[1], 'SYS_SIGNAL', { target: agents[2], signal: 'SIGUSR1', reason: 'ping' });
    expect(sent).toMatchObject({ success: true });
    expect(sent.position).toMatch(/^1:\d+$/);
    await waitFor(
      async () =>
        (
          await owners[2].query(
            `SELECT 1 FROM events WHERE type = 'SignalDelivered' AND idempotency_key LIKE 'signal:%'`,
          )
        ).rowCount === 1,
      10_000,
      'the signal to be delivered in partition 2',
    );
    for (const a of agents) await sys(a, 'SYS_STAT', { path: '/mem/working/n' });
  });
  afterAll(async () => {
    await Promise.all(owners.map((p) => p.end()));
    await t?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('spreads the agents over every partition, and verifies every chain', async () => {
    const heads = await t.request<{ partitions: number; heads: { partition: number; position: number }[] }>(
      Subjects.auditHead,
      {},
    );
    expect(heads.partitions).toBe(P);
    for (const h of heads.heads) expect(h.position).toBeGreaterThan(0);

    const report = await json('audit', 'verify');
    expect(report).toMatchObject({ ok: true, checked: heads.heads.reduce((s, h) => s + h.position, 0) });
    expect(report.partitions).toEqual(
      heads.heads.map((h) =>
        expect.objectContaining({ partition: h.partition, ok: true, from: 1, to: h.position, checked: h.position }),
      ),
    );
    const human = await cli('audit', 'verify');
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^ok: 4 partition\(s\)/);
    expect(human.stderr).toBe(''); // no progress when stderr is not a terminal

    // the recorder verifies every partition, or one
    const all = await t.request<{ ok: boolean; partitions: { partition: number; ok: boolean }[] }>(
      Subjects.recorderVerify,
      {},
    );
    expect(all).toMatchObject({ ok: true });
    expect(all.partitions.map((r) => [r.partition, r.ok])).toEqual(heads.heads.map((h) => [h.partition, true]));
    expect(await t.request(Subjects.recorderVerify, { partition: 3 })).toMatchObject({
      partition: 3,
      ok: true,
      checked: heads.heads[3].position,
    });
    expect(await t.request(Subjects.recorderVerify, { partition: P })).toMatchObject({ error: { code: -5 } });
  });

  it('pages through the whole log exactly once, in the documented order, a signal’s cause before its delivery', async () => {
    const expected = await mergedFromDb();
    const seen: RecordedEvent[] = [];
    let after: number | string | undefined;
    let pages = 0;
    for (;;) {
      const page = await t.request<{ events: RecordedEvent[]; next: string | null; heads: unknown[] }>(
        Subjects.auditQuery,
        { ...(after !== undefined ? { after } : {}), limit: 7 },
      );
      expect(page.heads).toHaveLength(P);
      seen.push(...page.events);
      pages += 1;
      if (page.next === null) break;
      expect(page.next).toMatch(/^0:\d+,1:\d+,2:\d+,3:\d+$/);
      after = page.next;
    }
    expect(pages).toBeGreaterThan(3);
    expect(seen.map((e) => `${e.partition}:${e.position}`)).toEqual(
      expected.map((r) => `${r.partition}:${r.position}`),
    );
    // nondecreasing in time, and every cross-partition delivery after the SignalSent it names
    for (let i = 1; i < seen.length; i++) expect(seen[i].recordedAt >= seen[i - 1].recordedAt).toBe(true);
    const index = new Map(seen.map((e, i) => [e.eventId, i]));
    const relayed = seen.filter(
      (e) => e.type === EventTypes.SignalDelivered && e.idempotencyKey?.startsWith('signal:'),
    );
    expect(relayed).toHaveLength(1);
    const cause = seen[index.get(relayed[0].metadata.causationId as string)!];
    expect(cause).toMatchObject({ type: EventTypes.SignalSent, partition: 1, streamId: `agent:${agents[1]}` });
    expect(relayed[0]).toMatchObject({ partition: 2, streamId: `agent:${agents[2]}` });
    expect(index.get(cause.eventId)!).toBeLessThan(index.get(relayed[0].eventId)!);

    // the command line reads the same order; a filter keeps it (here: the signal's two events)
    const viaCli = await json('audit', 'query', '--limit', '100000');
    expect(viaCli.events.map((e: RecordedEvent) => e.eventId)).toEqual(seen.map((e) => e.eventId));
    const signal = await json('audit', 'query', '--type', 'SignalSent', 'SignalDelivered');
    expect(signal.events.map((e: RecordedEvent) => e.type)).toEqual(['SignalSent', 'SignalDelivered']);
    const table = await cli('audit', 'query', '--agent', agents[3]);
    expect(table.stdout).toMatch(/│ 3:\d+ +│/);

    // a cursor can resume from any point, and stats cover every partition
    const mid = await t.request<{ events: RecordedEvent[]; next: string }>(Subjects.auditQuery, { limit: 10 });
    const rest = await t.request<{ events: RecordedEvent[] }>(Subjects.auditQuery, { after: mid.next, limit: 10000 });
    expect([...mid.events, ...rest.events].map((e) => e.eventId)).toEqual(seen.map((e) => e.eventId));
    expect(await t.request(Subjects.auditQuery, { after: '0:1,0:2' })).toMatchObject({ error: { code: -5 } });
    expect(await t.request(Subjects.auditQuery, { after: '7:1' })).toMatchObject({ error: { code: -5 } });
    const stats = await json('audit', 'stats');
    expect(stats.events).toBe(seen.length);
    expect(stats.partitions.map((p: { events: number }) => p.events)).toEqual(
      Array.from({ length: P }, (_, p) => seen.filter((e) => e.partition === p).length),
    );
  });

  it('signs one checkpoint over every partition; a partition rewritten consistently fails against it, naming the partition', async () => {
    const keys = path.join(dir, 'keys');
    await json('audit', 'keygen', '--out', keys);
    const priv = path.join(keys, 'checkpoint-key.pem');
    const pub = path.join(keys, 'checkpoint-key.pub.pem');
    const cpFile = path.join(dir, 'cp.json');
    const cp = await json('audit', 'checkpoint', '--key', priv, '--out', cpFile);
    expect(cp).toMatchObject({ format: 'agentos-checkpoint/v2', partitions: P, signature: expect.any(String) });
    expect(cp.heads.map((h: { partition: number }) => h.partition)).toEqual([0, 1, 2, 3]);
    expect(await json('audit', 'verify', '--checkpoint', cpFile, '--pubkey', pub)).toMatchObject({
      ok: true,
      checkpoint: 'matches',
    });

    // an export carries each partition's end points, and verifies offline against the checkpoint
    const exp = path.join(dir, 'export');
    const manifest = await json('audit', 'export', '--out', exp, '--key', priv);
    expect(manifest.ranges).toEqual(
      cp.heads.map((h: { partition: number; position: number; hash: string }) =>
        expect.objectContaining({
          partition: h.partition,
          fromPosition: 1,
          toPosition: h.position,
          startHash: '0'.repeat(64),
          endHash: h.hash,
        }),
      ),
    );
    expect(await json('audit', 'verify-export', exp, '--pubkey', pub, '--checkpoint', cpFile)).toMatchObject({
      ok: true,
      signature: 'valid',
      checkpoint: 'matches',
    });

    // an attacker changes one event of partition 2 and re-hashes that partition's chain from it on, head included
    const pt = 2;
    const victim = (
      await owners[pt].query<{ position: number }>(
        `SELECT position FROM events WHERE stream_id = $1 AND data LIKE '%${agents[pt]} 1%'`,
        [`agent:${agents[pt]}`],
      )
    ).rows[0].position;
    await tamper(pt, async (c) => {
      await c.query(
        `UPDATE events SET data = replace(data, '${agents[pt]} 1', '${agents[pt]} X') WHERE position = $1`,
        [victim],
      );
      const rows = (
        await c.query<Row>(`SELECT ${COLUMNS} FROM events WHERE position >= $1 ORDER BY position`, [victim])
      ).rows;
      let prev = (await c.query<{ hash: string }>('SELECT hash FROM events WHERE position = $1', [victim - 1])).rows[0]
        .hash;
      for (const r of rows) {
        const hash = hashOf(r, r.position, prev);
        await c.query('UPDATE events SET prev_hash = $1, hash = $2 WHERE position = $3', [prev, hash, r.position]);
        prev = hash;
      }
      await c.query('UPDATE log_head SET hash = $1', [prev]);
    });

    // its chain is consistent again: plain verification passes, here and on the recorder
    expect(await json('audit', 'verify')).toMatchObject({ ok: true });
    expect(await t.request(Subjects.recorderVerify, { partition: pt })).toMatchObject({ ok: true });
    // the signed checkpoint catches it, and names the partition
    const v = await cli('--json', 'audit', 'verify', '--checkpoint', cpFile, '--pubkey', pub);
    expect(v.code).toBe(1);
    const report = JSON.parse(v.stdout);
    expect(report).toMatchObject({ ok: false, checkpoint: 'does not match', checkpointPartitions: [pt] });
    expect(report.problem).toContain(`partition ${pt}:`);
    expect(v.stderr).toContain(`partition ${pt}`);
    expect(report.partitions.filter((r: { checkpoint: string }) => r.checkpoint !== 'matches')).toEqual([
      expect.objectContaining({ partition: pt, checkpoint: 'does not match' }),
    ]);
    const human = await cli('audit', 'verify', '--checkpoint', cpFile, '--pubkey', pub);
    expect(human.stdout).toMatch(new RegExp(`^FAILED: partition ${pt}: `));
    // so does a fresh export checked against the checkpoint
    const exp2 = path.join(dir, 'export-after');
    await json('audit', 'export', '--out', exp2, '--key', priv);
    const e2 = await cli('--json', 'audit', 'verify-export', exp2, '--pubkey', pub, '--checkpoint', cpFile);
    expect(e2.code).toBe(1);
    expect(JSON.parse(e2.stdout)).toMatchObject({
      ok: false,
      checkpoint: 'does not match',
      checkpointPartitions: [pt],
    });
  });

  it('reports an event moved to another partition (wrong_partition)', async () => {
    // the last event of partition 3 (agent pa… of partition 3) moved to the end of partition 1, both chains re-hashed
    const [from, to] = [3, 1];
    const moved = (await owners[from].query<Row>(`SELECT ${COLUMNS} FROM events ORDER BY position DESC LIMIT 1`))
      .rows[0];
    expect(moved.stream_id).toBe(`agent:${agents[from]}`);
    const before = (
      await owners[from].query<{ hash: string }>('SELECT hash FROM events WHERE position = $1', [moved.position - 1])
    ).rows[0].hash;
    await tamper(from, async (c) => {
      await c.query('DELETE FROM events WHERE position = $1', [moved.position]);
      await c.query('UPDATE log_head SET position = $1, hash = $2', [moved.position - 1, before]);
    });
    const head = (await owners[to].query<{ position: number; hash: string }>('SELECT position, hash FROM log_head'))
      .rows[0];
    const position = head.position + 1;
    const hash = hashOf(moved, position, head.hash);
    await tamper(to, async (c) => {
      await c.query(
        `INSERT INTO events (position, stream_id, stream_version, event_id, idempotency_key, type, schema_version, data,
                             metadata, recorded_at, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
        [
          position,
          moved.stream_id,
          moved.stream_version,
          moved.event_id,
          moved.idempotency_key,
          moved.type,
          moved.schema_version,
          moved.data,
          moved.metadata,
          moved.recorded_at,
          head.hash,
          hash,
        ],
      );
      await c.query('UPDATE log_head SET position = $1, hash = $2, recorded_at = $3', [
        position,
        hash,
        moved.recorded_at,
      ]);
    });

    const r = await cli('--json', 'audit', 'verify');
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.ok).toBe(false);
    expect(report.partitions.filter((x: { ok: boolean }) => !x.ok)).toEqual([
      expect.objectContaining({
        partition: to,
        firstBad: { partition: to, position, reason: 'wrong_partition', expected: String(to), actual: String(from) },
      }),
    ]);
    expect(report.problem).toContain(`partition ${to}: first bad event at position ${position}`);
    // the recorder finds it too, in the whole log and in that partition
    const all = await t.request<{ ok: boolean; partitions: { partition: number; ok: boolean; firstBad?: unknown }[] }>(
      Subjects.recorderVerify,
      {},
    );
    expect(all.ok).toBe(false);
    expect(all.partitions.find((x) => x.partition === to)).toMatchObject({
      ok: false,
      firstBad: { position, reason: 'wrong_partition', expected: String(to), actual: String(from) },
    });
    expect(all.partitions.filter((x) => !x.ok).map((x) => x.partition)).toEqual([to]);
  });
});
