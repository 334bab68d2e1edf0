import { randomUUID } from 'node:crypto';
import { EventTypes, Subjects, agentPartition, type SyscallReply } from '#contracts';
import { PostgresCluster } from '#devstack';
import { createPgPool, partitionSchema, verifyChain } from '#event-store';
import type pg from 'pg';
import { runCli } from '../support/cli.js';
import { TEST_PG_URL } from '../support/test-env.js';
import { startTestStack, type TestStack } from '../support/test-stack.js';
import { waitFor } from '../support/wait-for.js';

/**
 * A log of four partitions on two Postgres servers: 0-1 on the machine's, 2-3 on a second server
 * this test starts itself (a fresh cluster on another port; where no Postgres binaries exist, a
 * second database of the same server stands in). Appends, reads, a signal from one server's
 * partition to the other's, replay after a kernel restart, and verify work across both; losing
 * the second server stops only its partitions' agents, and they resume when it returns.
 */
const P = 4;

/** `n` agent ids whose streams live in partition `p`. */
function idsIn(p: number, n: number, prefix: string): string[] {
  const out: string[] = [];
  for (let i = 0; out.length < n; i++) if (agentPartition(`${prefix}${i}`, P) === p) out.push(`${prefix}${i}`);
  return out;
}

describe('partitions on two Postgres servers', () => {
  let second: PostgresCluster | null;
  let secondUrl: string;
  let t: TestStack;
  const pools: pg.Pool[] = [];
  const agents = { p0: idsIn(0, 2, 'a'), p1: idsIn(1, 2, 'b'), p2: idsIn(2, 2, 'c'), p3: idsIn(3, 2, 'd') };
  const all = Object.values(agents).flat();

  beforeAll(async () => {
    second = await PostgresCluster.create();
    if (second) {
      await second.start();
      secondUrl = second.url('agentos_test');
    } else {
      const u = new URL(TEST_PG_URL);
      u.pathname = '/agentos_test_second';
      secondUrl = u.toString();
    }
    t = await startTestStack({
      services: ['recorder', 'policy', 'vfs', 'kernel'],
      partitions: P,
      partitionMap: `2-3=${secondUrl}`,
      env: { AGENTOS_SIGNAL_RELAY_MS: '200' },
    });
    for (const a of all)
      expect(await t.request(Subjects.adminAgentsCreate, { agentId: a })).toMatchObject({ agentId: a });
  });

  afterAll(async () => {
    await Promise.all(pools.map((p) => p.end().catch(() => undefined)));
    await t?.close();
    await second?.stop();
  });

  const sys = (agentId: string, syscall: string, args: Record<string, unknown>, id = randomUUID()) =>
    t.request<SyscallReply>(Subjects.syscall(agentId), { id, syscall, args }, 15_000);

  /** A pool on partition p's schema, on the server that holds it. */
  const poolOf = (p: number) => {
    const pool = createPgPool({
      pgUrl: p >= 2 ? secondUrl : TEST_PG_URL,
      pgSchema: partitionSchema(t.schema, p),
      pgRole: '',
    });
    pools.push(pool);
    return pool;
  };

  it('writes each partition on the server the layout places it, and reads it back', async () => {
    for (const a of all) {
      const w = await sys(a, 'SYS_WRITE', { path: '/mem/working/where', data: `I am ${a}` });
      expect(w).toMatchObject({ success: true });
      expect(w.position).toMatch(new RegExp(`^${agentPartition(a, P)}:\\d+$`));
      expect(await sys(a, 'SYS_READ', { path: '/mem/working/where' })).toMatchObject({ returnValue: `I am ${a}` });
    }
    for (let p = 0; p < P; p++) {
      const r = await poolOf(p).query<{ stream_id: string }>(
        `SELECT DISTINCT stream_id FROM events WHERE stream_id LIKE 'agent:%' ORDER BY stream_id`,
      );
      expect(r.rows.map((x) => x.stream_id)).toEqual(
        all
          .filter((a) => agentPartition(a, P) === p)
          .map((a) => `agent:${a}`)
          .sort(),
      );
    }
    // the second server really holds partitions 2 and 3 (and nothing of 0 and 1)
    const c = createPgPool({ pgUrl: secondUrl, pgSchema: 'public', pgRole: '' });
    pools.push(c);
    const schemas = (
      await c.query<{ nspname: string }>(`SELECT nspname FROM pg_namespace WHERE nspname LIKE $1 ORDER BY 1`, [
        `${t.schema}%`,
      ])
    ).rows.map((r) => r.nspname);
    expect(schemas).toEqual([partitionSchema(t.schema, 2), partitionSchema(t.schema, 3)]);
  });

  it('signals from one server to the other, exactly once, and replays it after a kernel restart', async () => {
    const [from] = agents.p0;
    const [to] = agents.p3;
    expect(await sys(from, 'SYS_SIGNAL', { target: to, signal: 'SIGSTOP', reason: 'cross-server' })).toMatchObject({
      success: true,
    });
    await waitFor(
      async () => (await sys(to, 'SYS_WRITE', { path: '/mem/working/x', data: '1' })).errorCode === -6,
      10_000,
      'the target on the second server to be stopped',
    );
    const delivered = await poolOf(3).query(`SELECT idempotency_key FROM events WHERE stream_id = $1 AND type = $2`, [
      `agent:${to}`,
      EventTypes.SignalDelivered,
    ]);
    expect(delivered.rows).toHaveLength(1);
    expect(delivered.rows[0].idempotency_key).toMatch(/^signal:/);

    // a new kernel rebuilds every agent from both servers' logs
    await t.stack.running('kernel')[0].kill();
    await t.stack.start('kernel');
    expect(await sys(to, 'SYS_WRITE', { path: '/mem/working/x', data: '1' })).toMatchObject({ errorCode: -6 });
    expect(await sys(from, 'SYS_READ', { path: '/mem/working/where' })).toMatchObject({ returnValue: `I am ${from}` });
    const got = await t.request<{ state: string }>(Subjects.adminAgentsGet, { agentId: to });
    expect(got.state).toBe('stopped');
  });

  it('verifies every partition on both servers', async () => {
    for (let p = 0; p < P; p++) expect(await verifyChain(poolOf(p))).toMatchObject({ ok: true });
  });

  it('audits, verifies and replays across both servers with the command line', async () => {
    const env = { AGENTOS_NATS_URL: t.nc.getServer(), AGENTOS_SUBJECT_PREFIX: t.prefix };
    const json = async (...args: string[]) => {
      const r = await runCli(['--json', ...args], env);
      expect(r.stderr).not.toContain('agentos:');
      return JSON.parse(r.stdout);
    };
    const verified = await json('audit', 'verify');
    expect(verified).toMatchObject({ ok: true });
    expect(verified.partitions.map((x: { partition: number }) => x.partition)).toEqual([0, 1, 2, 3]);

    // the signal's two halves, on two servers, in the merged order: the cause first
    const [from] = agents.p0;
    const [to] = agents.p3;
    const types = [EventTypes.SignalSent, EventTypes.SignalDelivered];
    const merged = (await json('audit', 'query', '--type', ...types, '--limit', '100')) as {
      events: { streamId: string; type: string; eventId: string; metadata: { causationId?: string } }[];
    };
    const sent = merged.events.findIndex((e) => e.streamId === `agent:${from}` && e.type === EventTypes.SignalSent);
    const delivered = merged.events.findIndex(
      (e) => e.type === EventTypes.SignalDelivered && e.metadata.causationId === merged.events[sent]?.eventId,
    );
    expect(sent).toBeGreaterThanOrEqual(0);
    expect(delivered).toBeGreaterThan(sent);
    expect(merged.events[delivered].streamId).toBe(`agent:${to}`);

    // time travel on the second server's partition: the target as of now is stopped
    const head = await t.request<{ heads: { partition: number; position: number }[] }>(Subjects.recorderHead, {
      partition: 3,
    });
    const at = `3:${head.heads[3].position}`;
    expect(await json('replay', '--agent', to, '--at', at)).toMatchObject({ agentId: to, state: 'stopped' });
  });

  it('loses only the second server’s partitions while it is down, and carries on when it returns', async () => {
    if (!second) return; // a second database of the same server cannot be stopped on its own
    await second.stop({ keepData: true });
    for (const a of [...agents.p0, ...agents.p1]) {
      expect(await sys(a, 'SYS_WRITE', { path: '/mem/working/up', data: 'still here' })).toMatchObject({
        success: true,
      });
    }
    const down = await sys(agents.p2[0], 'SYS_WRITE', { path: '/mem/working/up', data: 'x' });
    expect(down).toMatchObject({ success: false, errorCode: -7 });
    await second.resume();
    await waitFor(
      async () => (await sys(agents.p2[0], 'SYS_WRITE', { path: '/mem/working/up', data: 'back' })).success === true,
      30_000,
      'partition 2 to accept writes again',
    );
    expect(await sys(agents.p2[0], 'SYS_READ', { path: '/mem/working/up' })).toMatchObject({ returnValue: 'back' });
  });
});
