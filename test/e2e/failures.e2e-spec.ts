import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Subjects, type SyscallReply } from '#contracts';
import { openLogDb } from '../support/log-db.js';
import { TcpProxy, pgTarget } from '../support/tcp-proxy.js';
import { TEST_PG_URL } from '../support/test-env.js';
import { startTestStack, type TestStack } from '../support/test-stack.js';

interface LoadLog {
  acked: Map<string, string>; // request id -> position
  unavailable: Set<string>;
  other: Map<string, number>;
}

/**
 * Agents writing in a closed loop, each request with a fresh id and never retried: what the
 * kernel answered is exactly what the log must show (invariant 1).
 */
function startLoad(
  nc: NatsConnection,
  subject: (a: string) => string,
  agents: string[],
): { stop: () => Promise<LoadLog> } {
  const log: LoadLog = { acked: new Map(), unavailable: new Set(), other: new Map() };
  let running = true;
  let seq = 0;
  const run = Math.random().toString(36).slice(2, 8);
  const workers = agents.map(async (a) => {
    while (running) {
      const id = `${a}-${run}-${++seq}`;
      try {
        const m = await nc.request(
          subject(a),
          JSON.stringify({ id, syscall: 'SYS_WRITE', args: { path: '/mem/working/f', data: `${id}\n`, mode: 'a' } }),
          {
            timeout: 15_000,
          },
        );
        const r = m.json<SyscallReply>();
        if (r.success) log.acked.set(id, r.position!);
        else if (r.errorCode === -7) log.unavailable.add(id);
        else log.other.set(id, r.errorCode!);
      } catch {
        // no reply at all (e.g. the kernel died mid-request): neither acked nor refused
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  });
  return {
    stop: async () => {
      running = false;
      await Promise.all(workers);
      return log;
    },
  };
}

/** Every recorded syscall's request id and position (as replies name it), from every partition of the log. */
async function recordedRequests(schema: string): Promise<Map<string, string>> {
  const db = await openLogDb(schema, TEST_PG_URL);
  try {
    const rows = await db.query<{ id: string; position: number }>(
      `SELECT position, event_json(data)->>'requestId' AS id FROM events WHERE type = 'SyscallRecorded'`,
    );
    for (const v of await db.verify()) expect(v).toMatchObject({ partition: v.partition, ok: true });
    return new Map(rows.map((row) => [row.id, db.position(row)]));
  } finally {
    await db.end();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const AGENTS = Array.from({ length: 12 }, (_, i) => `load${i}`);

describe('Postgres unreachable mid-load', () => {
  let t: TestStack;
  let proxy: TcpProxy;

  beforeAll(async () => {
    const target = pgTarget(TEST_PG_URL);
    proxy = new TcpProxy(target.host, target.port);
    await proxy.start();
    t = await startTestStack({ services: ['recorder', 'vfs', 'kernel'], pgUrl: target.via(proxy.port) });
    for (const a of AGENTS) await t.request(Subjects.adminAgentsCreate, { agentId: a });
  });
  afterAll(async () => {
    await t.close();
    await proxy.close();
  });

  it('answers -7 while it is gone, loses nothing acknowledged, records nothing refused, and recovers without restarts', async () => {
    const load = startLoad(t.nc, (a) => t.subject(Subjects.syscall(a)), AGENTS);
    await sleep(1500);
    await proxy.cut();
    await sleep(2500);
    await proxy.restore();
    await sleep(3000);
    const log = await load.stop();

    expect(log.acked.size).toBeGreaterThan(50);
    expect(log.unavailable.size).toBeGreaterThan(0);
    expect([...log.other.values()]).toEqual([]);
    // recovered: the same processes answer again
    expect(t.stack.running()).toHaveLength(3);
    const after = await t.request<SyscallReply>(Subjects.syscall('load0'), {
      syscall: 'SYS_STAT',
      args: { path: '/mem/working/f' },
    });
    expect(after.success).toBe(true);

    const recorded = await recordedRequests(t.schema);
    for (const [id, position] of log.acked) expect(recorded.get(id)).toBe(position);
    for (const id of log.unavailable) expect(recorded.has(id)).toBe(false);
    // and the files agree with the log: every acknowledged line, no refused line
    for (const a of AGENTS) {
      const r = await t.request<SyscallReply>(Subjects.syscall(a), {
        syscall: 'SYS_READ',
        args: { path: '/mem/working/f' },
      });
      const lines = new Set((r.returnValue as string).trimEnd().split('\n'));
      for (const id of log.acked.keys()) if (id.startsWith(`${a}-`)) expect(lines.has(id)).toBe(true);
      for (const id of log.unavailable) if (id.startsWith(`${a}-`)) expect(lines.has(id)).toBe(false);
    }
  });
});

describe('services killed with SIGKILL mid-load', () => {
  let t: TestStack;

  beforeAll(async () => {
    t = await startTestStack({ services: ['recorder', 'vfs', 'kernel'] });
    for (const a of AGENTS) await t.request(Subjects.adminAgentsCreate, { agentId: a });
  });
  afterAll(async () => {
    await t.close();
  });

  for (const victim of ['kernel', 'recorder', 'vfs'] as const) {
    it(`keeps every acknowledged syscall when the ${victim} is killed and restarted`, async () => {
      const nc = await connect({ servers: t.nc.getServer() });
      const load = startLoad(nc, (a) => t.subject(Subjects.syscall(a)), AGENTS);
      await sleep(1200);
      await t.stack.running(victim)[0].kill();
      await sleep(300);
      await t.stack.start(victim);
      await sleep(1500);
      const log = await load.stop();
      await nc.close();

      expect(log.acked.size).toBeGreaterThan(20);
      expect([...log.other.values()]).toEqual([]);
      const recorded = await recordedRequests(t.schema);
      const lost = [...log.acked].filter(([id, pos]) => recorded.get(id) !== pos);
      expect(lost).toEqual([]);
      for (const id of log.unavailable) expect(recorded.has(id)).toBe(false);
    });
  }
});
