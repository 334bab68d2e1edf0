import { connect } from '@nats-io/transport-node';
import { Subjects, type SyscallReply } from '#contracts';
import type { ServiceName } from '#devstack';
import { openLogDb } from '../support/log-db.js';
import { startTestStack, type TestStack } from '../support/test-stack.js';

/**
 * Load while every service is killed and restarted in turn (SIGKILL and SIGTERM), then
 * invariants 1-4 checked on the log. Short by default; `CHAOS_DURATION_S=600` for the long run.
 */
const DURATION_S = Number(process.env.CHAOS_DURATION_S || 24);
const AGENTS = Array.from({ length: 8 }, (_, i) => `chaos${i}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe(`chaos: ${DURATION_S} s of load while services die`, () => {
  let t: TestStack;

  beforeAll(async () => {
    t = await startTestStack({
      services: ['recorder', 'policy', 'vfs', 'vfs', 'kernel', 'kernel'],
      env: { AGENTOS_SNAPSHOT_EVERY: '25' },
    });
    for (const a of AGENTS) await t.request(Subjects.adminAgentsCreate, { agentId: a });
  });
  afterAll(async () => {
    await t.close();
  });

  it('keeps invariants 1 to 4', async () => {
    const nc = await connect({ servers: t.nc.getServer() });
    const acked = new Map<string, string>(); // request id -> position
    const attempts = new Map<string, number>();
    // every -7 answer: the request id and when it arrived (-7 promises nothing was recorded)
    const unavailable: { id: string; at: number }[] = [];
    let running = true;
    let killed = 0;

    // agents: append a line per request; on -7 or no reply, retry with the same id (as the SDK does)
    const load = Promise.all(
      AGENTS.map(async (agent) => {
        for (let i = 0; running; i++) {
          const id = `${agent}-${i}`;
          const body = JSON.stringify({
            id,
            syscall: 'SYS_WRITE',
            args: { path: '/mem/working/log', data: `${id}\n`, mode: 'a' },
          });
          for (let attempt = 1; attempt <= 30; attempt++) {
            attempts.set(id, attempt);
            try {
              const r = (
                await nc.request(t.subject(Subjects.syscall(agent)), body, { timeout: 12_000 })
              ).json<SyscallReply>();
              if (r.success) {
                acked.set(id, r.position!);
                break;
              }
              if (r.errorCode !== -7) throw new Error(`unexpected reply ${JSON.stringify(r)}`);
              unavailable.push({ id, at: Date.now() });
            } catch (err) {
              if ((err as Error).message.startsWith('unexpected')) throw err;
            }
            await sleep(100 * Math.min(attempt, 10));
          }
        }
      }),
    );

    // chaos: each service in turn, alternately SIGKILL and SIGTERM, one replica at a time
    const order: ServiceName[] = ['kernel', 'vfs', 'recorder', 'policy'];
    const until = Date.now() + DURATION_S * 1000;
    for (let round = 0; Date.now() < until; round++) {
      const service = order[round % order.length];
      const victim = t.stack.running(service)[0];
      if (round % 2 === 0) await victim.kill();
      else await victim.stop();
      killed += 1;
      await sleep(700);
      await t.stack.start(service);
      await sleep(1500);
    }
    running = false;
    await load;
    await nc.close();
    expect(killed).toBeGreaterThanOrEqual(4);
    expect(acked.size).toBeGreaterThan(50);

    // every partition of the log (an agent's events are all in its partition, in their order)
    const db = await openLogDb(t.schema);
    try {
      const rows = await db.query<{
        position: number;
        stream_id: string;
        stream_version: number;
        recorded_at: Date;
        d: Record<string, any>;
      }>(
        `SELECT position, stream_id, stream_version, recorded_at, event_json(data) AS d FROM events WHERE stream_id LIKE 'agent:chaos%' ORDER BY position`,
      );
      const syscalls = rows.filter((r) => r.d.requestId);

      // invariant 1: every acknowledged syscall is in the log, at the position it was told
      const byRequest = new Map<string, { position: number; partition: number }[]>();
      for (const r of syscalls) byRequest.set(r.d.requestId, [...(byRequest.get(r.d.requestId) ?? []), r]);
      const lost = [...acked].filter(([id, pos]) => {
        const first = byRequest.get(id)?.[0];
        return first === undefined || db.position(first) !== pos;
      });
      expect(lost).toEqual([]);

      // invariant 2: exactly one event per syscall, also after retries with the same id
      const duplicated = [...byRequest].filter(([, list]) => list.length > 1).map(([id]) => id);
      expect(duplicated).toEqual([]);

      // -7 means nothing was recorded: no -7 ever answered an id whose event was already committed
      const recordedAt = new Map(syscalls.map((r) => [r.d.requestId as string, r.recorded_at.getTime()]));
      const lied = unavailable.filter((u) => (recordedAt.get(u.id) ?? Infinity) < u.at);
      expect(lied).toEqual([]);
      expect([...attempts.values()].some((a) => a > 1)).toBe(true); // retries did happen

      // invariant 4: per agent, versions are dense and the file is the log's writes, in log order
      for (const agent of AGENTS) {
        const own = rows.filter((r) => r.stream_id === `agent:${agent}`);
        expect(own.map((r) => r.stream_version)).toEqual(own.map((_, i) => i + 1));
        const writes = own.filter((r) => r.d.syscall === 'SYS_WRITE' && r.d.result.success).map((r) => r.d.args.data);
        const file = await t.request<SyscallReply>(Subjects.syscall(agent), {
          syscall: 'SYS_READ',
          args: { path: '/mem/working/log' },
        });
        expect(file.returnValue).toBe(writes.join(''));
      }
      for (const v of await db.verify()) expect(v).toMatchObject({ partition: v.partition, ok: true });

      // invariant 3: restart everything from the log alone; every agent's state is the same
      const digest = async () =>
        Promise.all(
          AGENTS.map((a) =>
            t.request<{ digest: string }>(Subjects.adminAgentsDigest, { agentId: a }).then((d) => d.digest),
          ),
        );
      const before = await digest();
      await t.stack.killAll();
      for (const s of ['recorder', 'policy', 'vfs', 'kernel'] as const) await t.stack.start(s);
      expect(await digest()).toEqual(before);
    } finally {
      await db.end();
    }
  });
});
