import { Subjects, agentStream, type SyscallReply } from '#contracts';
import {
  AGENT_SNAPSHOT_SCHEMA,
  agentDigest,
  cloneAgentState,
  evolveAgent,
  fromAgentSnapshot,
  type AgentSnapshotV3,
  type AgentState,
} from '#agent-state';
import { PartitionedLog, PgEventReader, PgSnapshotStore, StreamStateCache, verifyLog } from '#event-store';
import {
  applyVfsEvent,
  cloneVfsState,
  emptyVfsState,
  fromVfsSnapshot,
  vfsDigest,
  type VfsSnapshotV1,
  type VfsState,
} from '#vfs-core';
import { replayLog } from '../../apps/cli/src/replay/replay-log.js';
import { TEST_PG_URL } from '../support/test-env.js';
import { startTestStack, type TestStack } from '../support/test-stack.js';

const AGENTS = Array.from({ length: 8 }, (_, i) => `replay${i}`);

/**
 * Invariant 3: stop every service, start them again from nothing but Postgres, and every agent's
 * state (registration, role, lifecycle, files, descriptors, signal state, counters, policy
 * version) is what it was: equal digests. With and without snapshots.
 */
describe('replay after restart', () => {
  let t: TestStack;
  let n = 0;
  const sys = (agentId: string, syscall: string, args: Record<string, unknown> = {}) =>
    t.request<SyscallReply>(Subjects.syscall(agentId), { id: `w${++n}`, syscall, args });

  async function digests(): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const a of AGENTS) {
      const d = await t.request<{ digest: string; version: number }>(Subjects.adminAgentsDigest, { agentId: a });
      expect(d.digest).toMatch(/^[0-9a-f]{64}$/);
      out[a] = `${d.version}:${d.digest}`;
    }
    return out;
  }

  async function restart(env: Record<string, string>) {
    await t.stack.stopAll();
    expect(t.stack.running()).toHaveLength(0);
    for (const s of ['recorder', 'vfs', 'kernel'] as const) await t.stack.start(s, env);
  }

  beforeAll(async () => {
    t = await startTestStack({ services: ['recorder', 'vfs', 'kernel'], env: { AGENTOS_SNAPSHOT_EVERY: '5' } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('rebuilds identical state for every agent, with and without snapshots', async () => {
    for (const [i, a] of AGENTS.entries())
      await t.request(Subjects.adminAgentsCreate, { agentId: a, role: i % 2 ? 'reader' : 'writer' });
    // a mixed workload: files (write, append, base64), descriptors, masks, dispositions, signals, exit, kill
    for (let round = 0; round < 6; round++) {
      await Promise.all(
        AGENTS.map(async (a, i) => {
          await sys(a, 'SYS_WRITE', { path: `/mem/working/r${round}.txt`, data: `${a} round ${round}` });
          await sys(a, 'SYS_WRITE', { path: '/mem/episodic/log', data: `${round}\n`, mode: 'a' });
          await sys(a, 'SYS_WRITE', {
            path: '/state/bin',
            data: Buffer.from([round, i, 255]).toString('base64'),
            encoding: 'base64',
          });
          const fd = await sys(a, 'SYS_OPEN', { path: `/ipc/ch${round}`, mode: round % 2 ? 'a' : 'r' });
          if (round % 3 === 0) await sys(a, 'SYS_CLOSE', { fd: fd.returnValue });
          await sys(a, 'SYS_READ', { path: '/mem/episodic/log' });
          await sys(a, 'SYS_STAT', { path: '/mem/working' });
          if (round === 1) await sys(a, 'SYS_SIGPROCMASK', { how: 'block', signals: ['SIGUSR1', 'SIGSTOP'] });
          if (round === 2) await sys(a, 'SYS_SIGNAL', { signal: 'SIGUSR1' }); // queued
          if (round === 3) await sys(a, 'SYS_SIGACTION', { signal: 'SIGDRIFT', action: i % 2 ? 'ignore' : 'handle' });
          if (round === 4 && i % 2) await sys(a, 'SYS_SIGPROCMASK', { how: 'unblock', signals: ['SIGUSR1'] });
          await sys(a, 'SYS_FORK');
          await sys(a, 'SYS_NOPE');
        }),
      );
    }
    await t.request(Subjects.adminAgentsSignal, { agentId: 'replay2', signal: 'SIGSTOP' }); // blocked: pending
    await t.request(Subjects.adminAgentsSignal, { agentId: 'replay3', signal: 'SIGINT' }); // stopped
    await sys('replay4', 'SYS_EXIT', { code: 7 });
    await t.request(Subjects.adminAgentsSignal, { agentId: 'replay5', signal: 'SIGKILL' });
    await t.request(Subjects.adminToolsRegister, { name: 'search' });

    const before = await digests();
    const metricsBefore = await t.request<Record<string, unknown>>(Subjects.adminKernelMetrics, {});
    const views = await Promise.all(
      AGENTS.map((a) => t.request<Record<string, unknown>>(Subjects.adminAgentsGet, { agentId: a })),
    );
    expect(views.map((v) => v.state)).toEqual([
      'running',
      'running',
      'running',
      'stopped',
      'terminated',
      'terminated',
      'running',
      'running',
    ]);

    await restart({ AGENTOS_SNAPSHOTS: 'off' });
    expect(await digests()).toEqual(before);
    const metricsAfter = await t.request<Record<string, unknown>>(Subjects.adminKernelMetrics, {});
    expect({ ...metricsAfter, uptimeSeconds: 0 }).toEqual({ ...metricsBefore, uptimeSeconds: 0 });

    await restart({ AGENTOS_SNAPSHOTS: 'on' });
    expect(await digests()).toEqual(before);
    const viewsAfter = await Promise.all(
      AGENTS.map((a) => t.request<Record<string, unknown>>(Subjects.adminAgentsGet, { agentId: a })),
    );
    expect(viewsAfter).toEqual(views);
    // the files themselves are back
    expect(await sys('replay0', 'SYS_READ', { path: '/mem/episodic/log' })).toMatchObject({
      returnValue: '0\n1\n2\n3\n4\n5\n',
    });
    expect((await t.request<{ tools: unknown[] }>(Subjects.adminToolsList, {})).tools).toHaveLength(1);
  });

  it('folds to the same state from a snapshot and from the whole stream', async () => {
    // the whole log: every partition (each agent's stream and snapshots live in its partition)
    const pool = await PartitionedLog.open({ pgUrl: TEST_PG_URL, pgSchema: t.schema, pgRole: '' });
    try {
      const byKind = new Map<string, number>();
      for (const p of pool.all()) {
        const snaps = await pool
          .pool(p)
          .query(`SELECT kind, count(*)::int AS n, max(version)::int AS v FROM snapshots GROUP BY kind ORDER BY kind`);
        for (const r of snaps.rows) byKind.set(r.kind, Math.max(byKind.get(r.kind) ?? 0, r.v));
      }
      expect([...byKind.keys()].sort()).toEqual(['kernel', 'vfs']);
      for (const v of byKind.values()) expect(v).toBeGreaterThan(5);

      const reader = new PgEventReader(pool);
      const kernelWith = new StreamStateCache<AgentState>(reader, {
        fold: evolveAgent,
        clone: cloneAgentState,
        snapshots: new PgSnapshotStore<AgentState>(pool, 'kernel', AGENT_SNAPSHOT_SCHEMA, {
          encode: () => {
            throw new Error('read only');
          },
          decode: (j) => fromAgentSnapshot(j as AgentSnapshotV3),
        }),
      });
      const kernelWithout = new StreamStateCache<AgentState>(reader, { fold: evolveAgent, clone: cloneAgentState });
      const vfsFold = (s: VfsState | null, e: Parameters<typeof applyVfsEvent>[1]) => {
        const st = s ?? emptyVfsState();
        applyVfsEvent(st, e);
        return st;
      };
      const vfsWith = new StreamStateCache<VfsState>(reader, {
        fold: vfsFold,
        clone: cloneVfsState,
        snapshots: new PgSnapshotStore<VfsState>(pool, 'vfs', 1, {
          encode: () => {
            throw new Error('read only');
          },
          decode: (j) => fromVfsSnapshot(j as VfsSnapshotV1),
        }),
      });
      const vfsWithout = new StreamStateCache<VfsState>(reader, { fold: vfsFold, clone: cloneVfsState });
      for (const a of AGENTS) {
        const [k1, k2, v1, v2] = await Promise.all([
          kernelWith.get(agentStream(a)),
          kernelWithout.get(agentStream(a)),
          vfsWith.get(agentStream(a)),
          vfsWithout.get(agentStream(a)),
        ]);
        expect(agentDigest(k1.state!)).toBe(agentDigest(k2.state!));
        expect(vfsDigest(v1.state!)).toBe(vfsDigest(v2.state!));
        expect(k1.version).toBe(k2.version);
      }
      expect((await verifyLog(pool)).ok).toBe(true);

      // the offline replay (benchmark, time travel) folds to what the services hold
      const replayed = await replayLog(pool);
      for (const a of AGENTS) {
        const live = await t.request<{ kernelDigest: string; vfsDigest: string }>(Subjects.adminAgentsDigest, {
          agentId: a,
        });
        const r = replayed.agents.get(agentStream(a))!;
        expect(agentDigest(r.kernel)).toBe(live.kernelDigest);
        expect(vfsDigest(r.vfs)).toBe(live.vfsDigest);
      }
    } finally {
      await pool.close();
    }
  });
});
