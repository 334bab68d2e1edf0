import { connect } from '@nats-io/transport-node';
import { Subjects, type SyscallReply } from '#contracts';
import type { ServiceName } from '#devstack';
import { openLogDb } from '../support/log-db.js';
import { startTestStack, type TestStack } from '../support/test-stack.js';
import { waitFor } from '../support/wait-for.js';

/**
 * -7 promises that nothing was recorded. A retry whose first attempt was recorded must get the
 * recorded reply, never -7, whichever service is down when it arrives: the kernel looks the id
 * up in the log before it answers -7 on any path.
 */
describe('a known request id is answered from the log, never with -7', () => {
  let t: TestStack;
  const sys = (agent: string, body: Record<string, unknown>, timeout = 10_000) =>
    t.request<SyscallReply>(Subjects.syscall(agent), body, timeout);

  beforeAll(async () => {
    t = await startTestStack({ services: ['recorder', 'policy', 'vfs', 'kernel'] });
    for (const a of ['k1', 'k2', 'k3', 'k4', 'k5', 'k6']) await t.request(Subjects.adminAgentsCreate, { agentId: a });
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers a retried write and a retried read after a kernel restart while the VFS is down', async () => {
    const write = { id: 'w-1', syscall: 'SYS_WRITE', args: { path: '/mem/working/f', data: 'first' } };
    const read = { id: 'r-1', syscall: 'SYS_READ', args: { path: '/mem/working/f' } };
    const w = await sys('k1', write);
    const r = await sys('k1', read);
    expect(w).toMatchObject({ success: true, returnValue: 5 });
    expect(r).toMatchObject({ success: true, returnValue: 'first' });
    // the file changes afterwards: the retried read must still return what was read then
    expect(await sys('k1', { syscall: 'SYS_WRITE', args: { path: '/mem/working/f', data: 'second' } })).toMatchObject({
      success: true,
    });

    await t.stack.running('vfs')[0].kill();
    await t.stack.running('kernel')[0].kill();
    await t.stack.start('kernel'); // empty reply cache, no VFS anywhere
    expect(await sys('k1', write)).toEqual(w);
    expect(await sys('k1', read)).toEqual(r);
    // a new request cannot be served without the VFS: that one is -7, and recorded nowhere
    const fresh = await sys('k1', { id: 'w-2', syscall: 'SYS_WRITE', args: { path: '/mem/working/g', data: 'x' } });
    expect(fresh).toMatchObject({ success: false, errorCode: -7 });
    expect(fresh.position).toBeUndefined();
    await t.stack.start('vfs');
  });

  it('never answers -7 for an id already in the log while each service is killed under load', async () => {
    const nc = await connect({ servers: t.nc.getServer() });
    const agents = ['k2', 'k3', 'k4', 'k5', 'k6'];
    const unavailable: { id: string; at: number }[] = [];
    const acked = new Map<string, string>(); // request id -> position
    let timeouts = 0;
    let running = true;
    const load = Promise.all(
      agents.map(async (agent) => {
        for (let i = 0; running; i++) {
          const id = `${agent}-${i}`;
          const body = JSON.stringify({
            id,
            syscall: 'SYS_WRITE',
            args: { path: '/mem/working/log', data: `${id}\n`, mode: 'a' },
          });
          for (let attempt = 0; attempt < 200; attempt++) {
            try {
              const r = (
                await nc.request(t.subject(Subjects.syscall(agent)), body, { timeout: 1500 })
              ).json<SyscallReply>();
              if (r.success) {
                acked.set(id, String(r.position));
                break;
              }
              expect(r.errorCode).toBe(-7);
              unavailable.push({ id, at: Date.now() });
            } catch {
              timeouts += 1; // no reply in time: retry with the same id
            }
            await new Promise((res) => setTimeout(res, 50));
          }
        }
      }),
    );
    const progress = async () => {
      const before = acked.size;
      await waitFor(() => acked.size >= before + 20, 30_000, 'the load to make progress');
    };
    await progress();
    const victims: ServiceName[][] = [
      ['vfs'],
      ['kernel'],
      ['recorder'],
      ['policy'],
      ['kernel', 'vfs'],
      ['kernel', 'recorder'],
    ];
    for (const group of victims) {
      for (const s of group) await t.stack.running(s)[0].kill();
      // down long enough for retries to arrive at whatever is left
      await waitFor(() => unavailable.length > 0 || acked.size > 0, 1000, 'load').catch(() => undefined);
      const downAt = Date.now();
      await waitFor(() => Date.now() - downAt > 1200, 5000, 'the outage to last');
      for (const s of group.slice().reverse()) await t.stack.start(s);
      await progress();
    }
    running = false;
    await load;
    await nc.close();

    const db = await openLogDb(t.schema); // every partition of the log
    try {
      const rows = await db.query<{ id: string; position: number; recorded_at: Date }>(
        `SELECT event_json(data)->>'requestId' AS id, position, recorded_at FROM events
            WHERE type = 'SyscallRecorded' AND stream_id = ANY($1)`,
        [agents.map((a) => `agent:${a}`)],
      );
      const recorded = new Map(rows.map((r) => [r.id, r]));
      // nothing acknowledged was lost: each is recorded at the position it was told
      for (const [id, position] of acked) {
        const r = recorded.get(id);
        expect(r ? db.position(r) : undefined).toBe(position);
      }
      // and no -7 ever answered an id that was already committed
      const lied = unavailable.filter((u) => (recorded.get(u.id)?.recorded_at.getTime() ?? Infinity) < u.at);
      expect(lied).toEqual([]);
      expect(unavailable.length + timeouts).toBeGreaterThan(0); // the outages were felt
    } finally {
      await db.end();
    }
  });
});
