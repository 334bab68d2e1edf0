import { Subjects, type SyscallReply } from '#contracts';
import type { RecordedEvent } from '#event-store';
import { eventPosition } from '../support/positions.js';
import { startTestStack, type TestStack } from '../support/test-stack.js';

/**
 * Invariant 4 with two kernel and two VFS replicas in their queue groups: one agent's concurrent
 * syscalls land on both, none is lost, and they take effect in log order.
 */
describe('kernel and VFS replicas', () => {
  let t: TestStack;

  beforeAll(async () => {
    t = await startTestStack({ services: ['recorder', 'vfs', 'vfs', 'kernel', 'kernel'] });
    await t.request(Subjects.adminAgentsCreate, { agentId: 'shared' });
  });
  afterAll(async () => {
    await t.close();
  });

  it('loses no update of one agent hammered through both replicas, and keeps log order', async () => {
    const N = 120;
    const replies = await Promise.all(
      Array.from({ length: N }, (_, i) =>
        t.request<SyscallReply>(
          Subjects.syscall('shared'),
          { id: `line-${i}`, syscall: 'SYS_WRITE', args: { path: '/mem/working/journal', data: `${i}\n`, mode: 'a' } },
          30_000,
        ),
      ),
    );
    expect(replies.filter((r) => !r.success)).toEqual([]);

    const content = (
      await t.request<SyscallReply>(Subjects.syscall('shared'), {
        syscall: 'SYS_READ',
        args: { path: '/mem/working/journal' },
      })
    ).returnValue as string;
    const lines = content.trimEnd().split('\n');
    expect(lines).toHaveLength(N);
    expect(new Set(lines).size).toBe(N);

    // the file's order is the log's order (per-agent order), and versions are consecutive
    const events: RecordedEvent[] = [];
    for (let from = 1; ;) {
      const page = await t.request<{ events: RecordedEvent[] }>(Subjects.recorderReadStream, {
        streamId: 'agent:shared',
        fromVersion: from,
        limit: 1000,
      });
      events.push(...page.events);
      if (page.events.length < 1000) break;
      from += 1000;
    }
    expect(events.map((e) => e.streamVersion)).toEqual(events.map((_, i) => i + 1));
    const writes = events
      .filter((e) => (e.data as any).syscall === 'SYS_WRITE')
      .map((e) => (e.data as any).args.data.trim());
    expect(writes).toEqual(lines);
    // every reply's position is the position of its own event
    const byRequest = new Map(events.map((e) => [(e.data as any).requestId as string, eventPosition(e)]));
    for (const [i, r] of replies.entries()) expect(r.position).toBe(byRequest.get(`line-${i}`));

    // both kernel replicas took part
    const perReplica = await Promise.all(
      t.stack.running('kernel').map(async (k) => {
        const text = await (await fetch(`http://127.0.0.1:${k.httpPort}/metrics`)).text();
        return [...text.matchAll(/^agentos_syscalls_total\{[^}]*syscall="SYS_WRITE"[^}]*\} (\d+)/gm)].reduce(
          (s, m) => s + Number(m[1]),
          0,
        );
      }),
    );
    expect(perReplica.every((c) => c > 0)).toBe(true);
    expect(perReplica.reduce((a, b) => a + b, 0)).toBe(N);
  });

  it('keeps each agent consistent when many agents are spread over the replicas', async () => {
    const agents = Array.from({ length: 16 }, (_, i) => `many${i}`);
    for (const a of agents) await t.request(Subjects.adminAgentsCreate, { agentId: a });
    await Promise.all(
      agents.map(async (a) => {
        await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            t.request(
              Subjects.syscall(a),
              { id: `${a}-${i}`, syscall: 'SYS_WRITE', args: { path: '/mem/working/n', data: 'x', mode: 'a' } },
              30_000,
            ),
          ),
        );
      }),
    );
    for (const a of agents) {
      const r = await t.request<SyscallReply>(Subjects.syscall(a), {
        syscall: 'SYS_STAT',
        args: { path: '/mem/working/n' },
      });
      expect(r.returnValue).toMatchObject({ size: 10 });
    }
  });
});
