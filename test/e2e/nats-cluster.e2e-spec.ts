import { AdminClient, AgentClient } from '#client';
import { ErrorCode, type SyscallReply } from '#contracts';
import { NatsCluster, type ServiceName } from '#devstack';
import { openLogDb } from '../support/log-db.js';
import { startTestStack, type TestStack } from '../support/test-stack.js';
import { eventually, waitFor } from '../support/wait-for.js';

/**
 * Nothing assumes a single nats-server: the services and the agents are given all three nodes of
 * a cluster, one node (one the services use) is SIGKILLed under load, and the deployment carries
 * on through the other two: no acknowledged syscall is lost, every service reconnects and is
 * ready again, and existing and new agents are served.
 */
const SERVICES: ServiceName[] = ['recorder', 'policy', 'vfs', 'kernel'];
const AGENTS = Array.from({ length: 6 }, (_, i) => `ncl${i}`);
const LATE_AGENTS = ['ncl-late0', 'ncl-late1'];
const FILE = '/mem/working/log';

interface Ack {
  agent: string;
  position: string;
  at: number;
}

describe('a three-node NATS cluster losing a node under load', () => {
  let cluster: NatsCluster | undefined;
  let t: TestStack | undefined;
  const clients: AgentClient[] = [];
  let admin: AdminClient | undefined;

  const agent = async (agentId: string) => {
    // each agent its own connection, given every node of the cluster so that it can fail over
    const c = await AgentClient.connect({
      servers: cluster!.url,
      agentId,
      subjectPrefix: t!.prefix,
      timeoutMs: 4000,
      retries: 8,
      backoffMs: 50,
    });
    clients.push(c);
    return c;
  };

  const ready = async (httpPort: number) => {
    try {
      return (await fetch(`http://127.0.0.1:${httpPort}/health/ready`, { signal: AbortSignal.timeout(2000) })).status;
    } catch {
      return 0;
    }
  };

  /** node index -> names of our services' connections on it */
  const serviceConnections = async () => {
    const out = new Map<number, string[]>();
    for (const n of cluster!.nodes) {
      if (!n.running) continue;
      const names = (await cluster!.connections(n.index)).map((c) => c.name ?? '');
      out.set(
        n.index,
        names.filter((name) => SERVICES.some((s) => name.startsWith(`${s}:`))),
      );
    }
    return out;
  };

  beforeAll(async () => {
    cluster = new NatsCluster();
    await cluster.start();
    t = await startTestStack({ natsUrl: cluster.url });
    for (const s of SERVICES) await t.stack.start(s);
    admin = await AdminClient.connect({ servers: cluster.url, subjectPrefix: t.prefix });
    for (const a of AGENTS) await admin.createAgent(a, 'worker');
  });

  afterAll(async () => {
    try {
      for (const c of clients) await c.disconnect().catch(() => undefined);
      await admin?.close().catch(() => undefined);
      await t?.close();
    } finally {
      await cluster?.stop();
    }
  });

  it('keeps every acknowledged syscall and carries on through the surviving nodes', async () => {
    const c = cluster!;
    const stack = t!;
    expect(c.url.split(',')).toHaveLength(3);

    // every service is connected to some node; the victim is the node most of them use
    const before = await eventually(
      async () => {
        const m = await serviceConnections();
        return [...m.values()].flat().length === SERVICES.length ? m : undefined;
      },
      10_000,
      'every service to show on a node',
    );
    const victim = [...before.entries()].sort((a, b) => b[1].length - a[1].length)[0][0];
    const orphans = before.get(victim)!;
    expect(orphans.length).toBeGreaterThan(0);

    // load: each agent appends a line per syscall; an acknowledged id must end up in the log
    const acked = new Map<string, Ack>();
    const failures: string[] = [];
    let running = true;
    let killedAt = Infinity;
    const agents = await Promise.all(AGENTS.map((a) => agent(a)));
    const load = Promise.all(
      agents.map(async (client) => {
        for (let i = 0; running; i++) {
          const id = `${client.agentId}-${i}`;
          // the SDK retries with the same id; a -7 after all its retries is retried here, same id again
          for (let attempt = 1; running || attempt === 1; attempt++) {
            let r: SyscallReply;
            try {
              r = await client.syscall('SYS_WRITE', { path: FILE, data: `${id}\n`, mode: 'a' }, { id });
            } catch (err) {
              failures.push(`${id}: threw ${(err as Error).message}`);
              return;
            }
            if (r.success) {
              acked.set(id, { agent: client.agentId, position: r.position!, at: Date.now() });
              break;
            }
            if (r.errorCode !== ErrorCode.UNAVAILABLE) {
              failures.push(`${id}: ${JSON.stringify(r)}`);
              return;
            }
            if (attempt >= 20) {
              failures.push(`${id}: still unavailable after ${attempt} attempts`);
              return;
            }
          }
        }
      }),
    );
    const ackedAfterKill = (agentId: string) =>
      [...acked.values()].filter((a) => a.agent === agentId && a.at > killedAt).length;

    try {
      await waitFor(() => acked.size >= 60 || failures.length > 0, 30_000, 'load to get going');
      expect(failures).toEqual([]);

      await c.kill(victim);
      killedAt = Date.now();
      expect(c.nodes[victim].running).toBe(false);

      // (b) the load carries on: every agent has syscalls acknowledged after the kill
      await waitFor(
        () => AGENTS.every((a) => ackedAfterKill(a) >= 10) || failures.length > 0,
        30_000,
        'every agent to be served again after the kill',
      );
    } finally {
      running = false;
      await load;
    }
    expect(failures).toEqual([]);

    // the services that were on the dead node are on the survivors now
    await waitFor(
      async () => [...(await serviceConnections()).values()].flat().length === SERVICES.length,
      20_000,
      'every service to reconnect to a surviving node',
    );
    const after = await serviceConnections();
    expect(after.has(victim)).toBe(false);
    expect([...after.values()].flat().sort()).toEqual([...before.values()].flat().sort());

    // (c) every service says it is ready again
    for (const p of stack.stack.running()) {
      await waitFor(async () => (await ready(p.httpPort)) === 200, 20_000, `${p.service} to be ready again`);
    }

    // (b) existing agents and agents created after the kill are served, within a deadline
    for (const a of LATE_AGENTS) await admin!.createAgent(a, 'worker');
    const late = await Promise.all(LATE_AGENTS.map((a) => agent(a)));
    const started = Date.now();
    for (const client of [...agents, ...late]) {
      const id = `${client.agentId}-after`;
      const r = await client.syscall('SYS_WRITE', { path: FILE, data: `${id}\n`, mode: 'a' }, { id });
      expect(r).toMatchObject({ success: true });
      acked.set(id, { agent: client.agentId, position: r.position!, at: Date.now() });
      expect(await client.read(FILE)).toContain(`${id}\n`);
    }
    expect(Date.now() - started).toBeLessThan(15_000);

    // (a) every acknowledged syscall is in the event log, once, at the position it was told
    // (every partition of the log; positions as replies write them)
    const db = await openLogDb(stack.schema);
    try {
      const rows = await db.query<{
        position: number;
        stream_id: string;
        stream_version: number;
        d: Record<string, any>;
      }>(
        `SELECT position, stream_id, stream_version, event_json(data) AS d FROM events WHERE stream_id LIKE 'agent:ncl%' ORDER BY position`,
      );
      const byRequest = new Map<string, string[]>();
      for (const r of rows) {
        if (typeof r.d.requestId !== 'string') continue;
        byRequest.set(r.d.requestId, [...(byRequest.get(r.d.requestId) ?? []), db.position(r)]);
      }
      const lost = [...acked].filter(([id, a]) => byRequest.get(id)?.[0] !== String(a.position)).map(([id]) => id);
      expect(lost).toEqual([]);
      const duplicated = [...byRequest].filter(([, list]) => list.length > 1).map(([id]) => id);
      expect(duplicated).toEqual([]);
      expect(acked.size).toBeGreaterThan(60 + AGENTS.length * 10);
      // per agent, the file is exactly the log's successful writes, in log order
      for (const client of agents) {
        const writes = rows
          .filter(
            (r) => r.stream_id === `agent:${client.agentId}` && r.d.syscall === 'SYS_WRITE' && r.d.result?.success,
          )
          .map((r) => r.d.args.data as string);
        expect(await client.read(FILE)).toBe(writes.join(''));
      }
    } finally {
      await db.end();
    }

    // the node comes back on its ports and rejoins the mesh; services stay ready
    await c.restart(victim);
    expect(c.nodes.every((n) => n.running)).toBe(true);
    const r = await agents[0].syscall('SYS_WRITE', { path: FILE, data: 'rejoined\n', mode: 'a' });
    expect(r).toMatchObject({ success: true });
    for (const p of stack.stack.running()) expect(await ready(p.httpPort)).toBe(200);
  });
});
