import { randomUUID } from 'node:crypto';
import { EventTypes, agentStream } from '#contracts';
import { agentDigest, evolveAgent, type AgentState } from '#agent-state';
import {
  PartitionedLog,
  PgEventAppender,
  PgEventReader,
  migrateLog,
  partitionSchema,
  type AppendRequest,
  type NewEvent,
} from '#event-store';
import { applyVfsEvent, emptyVfsState, vfsDigest } from '#vfs-core';
import { replayWorkerUrl } from '../../apps/cli/src/replay/parallel-replay.js';
import { replayLog } from '../../apps/cli/src/replay/replay-log.js';
import { TEST_PARTITIONS, TEST_PG_URL, uniqueName } from '../support/test-env.js';
import { waitFor } from '../support/wait-for.js';

/** A log of TEST_PARTITIONS partitions (AGENTOS_TEST_PARTITIONS; one by default). */
const PARTITIONED = TEST_PARTITIONS > 1;

interface TestLog {
  name: string;
  /** As the services act (agentos_service role). */
  service: PartitionedLog;
  /** The login (owner) role: for replays and tampering. */
  owner: PartitionedLog;
  drop(): Promise<void>;
}

async function createTestLog(prefix: string): Promise<TestLog> {
  const name = uniqueName(prefix).toLowerCase();
  await migrateLog({ pgUrl: TEST_PG_URL, pgSchema: name, partitions: TEST_PARTITIONS });
  const service = await PartitionedLog.open({ pgUrl: TEST_PG_URL, pgSchema: name, pgRole: 'agentos_service' });
  const owner = await PartitionedLog.open({ pgUrl: TEST_PG_URL, pgSchema: name, pgRole: '' });
  return {
    name,
    service,
    owner,
    async drop() {
      await service.close();
      for (let p = TEST_PARTITIONS - 1; p >= 0; p--)
        await owner
          .pool(0)
          .query(`DROP SCHEMA IF EXISTS "${partitionSchema(name, p)}" CASCADE`)
          .catch(() => undefined);
      await owner.close();
    },
  };
}

const AGENTS = Array.from({ length: 12 }, (_, i) => `drv${i}`);

function created(agentId: string): NewEvent {
  return {
    eventId: randomUUID(),
    type: EventTypes.AgentCreated,
    schemaVersion: 1,
    data: { agentId, role: 'writer', at: '2026-11-30T20:00:00.000Z' },
  };
}

function write(i: number, path: string, text: string, mode: 'w' | 'a'): NewEvent {
  const at = new Date(Date.parse('2026-11-30T20:00:00.000Z') + i * 7_777).toISOString();
  return {
    eventId: randomUUID(),
    type: EventTypes.SyscallRecorded,
    schemaVersion: 2,
    data: {
      requestId: `r${i}`,
      syscall: 'SYS_WRITE',
      args: { path, data: text, ...(mode === 'a' ? { mode } : {}) },
      decision: {
        allowed: true,
        mode: 'permissive',
        action: 'file_write',
        policyVersion: null,
        rule: null,
        reason: null,
        shadow: false,
        onViolation: null,
      },
      result: { success: true, returnValue: text.length, errorCode: null, errorMessage: null },
      at,
      executionTimeMs: 0.5,
      vfs: { op: 'write', path, mode, encoding: 'utf8', bytes: text.length },
    },
  };
}

/**
 * The replay driver against a real log: the sequential and the parallel whole-log replay fold to
 * what the services' own way of folding (stream by stream, from the reader) gives, and a row
 * tampered with in Postgres folds as a fault instead of stopping the replay.
 */
describe('replay driver on Postgres', () => {
  let schema: TestLog;
  let tampered: number;
  /** What the replays read: the partitioned log, or (one partition) its one pool, as the benchmark passes it. */
  const source = () => (PARTITIONED ? schema.owner : schema.owner.pool(0));

  beforeAll(async () => {
    schema = await createTestLog('drv');
    // an appender per partition; a request goes to its streams' partition (each request here has one)
    const appenders = schema.service.all().map((p) => new PgEventAppender(schema.service.pool(p)));
    const append = (r: AppendRequest) => appenders[schema.service.partitionOf(r.appends[0].streamId)].append(r);
    for (const a of AGENTS) {
      // created in AGENTS order, each in a later millisecond: the merged order (by recorded time) is this order too
      const before = Date.now();
      await waitFor(() => Date.now() > before, 1000, 'the next millisecond', 1);
      await append({ appends: [{ streamId: agentStream(a), expectedVersion: 0, events: [created(a)] }] });
    }
    let n = 0;
    for (let round = 0; round < 30; round++) {
      const byPartition = new Map<number, AppendRequest['appends']>();
      AGENTS.forEach((a, i) => {
        const p = schema.service.partitionOf(agentStream(a));
        const list = byPartition.get(p) ?? [];
        list.push({
          streamId: agentStream(a),
          expectedVersion: 'any' as const,
          events: [
            write(++n, `/mem/working/f${round % 4}.txt`, `${a} ${round} é ✓`, 'w'),
            write(++n, '/mem/episodic/log', `${round}|${i}\n`, 'a'),
          ],
        });
        byPartition.set(p, list);
      });
      for (const appends of byPartition.values()) await append({ appends });
    }
    await append({
      appends: [
        {
          streamId: '$policy',
          expectedVersion: 'any',
          events: [{ eventId: randomUUID(), type: 'X', schemaVersion: 1, data: {} }],
        },
      ],
    });
    // tampering the database itself allows: a row whose data is not JSON, in drv3's stream (in its partition)
    const drv3 = schema.owner.poolOf(agentStream('drv3'));
    const head = (await drv3.query('SELECT position FROM log_head')).rows[0].position as number;
    const version = (
      await drv3.query('SELECT max(stream_version)::int AS v FROM events WHERE stream_id = $1', [agentStream('drv3')])
    ).rows[0].v as number;
    tampered = head + 1;
    await drv3.query(
      `INSERT INTO events (position, stream_id, stream_version, event_id, type, schema_version, data, metadata, recorded_at, prev_hash, hash)
       VALUES ($1, $2, $3, $4, 'SyscallRecorded', 2, '{"at":"2026-', '{}', now(), '', '')`,
      [tampered, agentStream('drv3'), version + 1, randomUUID()],
    );
    await drv3.query('UPDATE log_head SET position = $1', [tampered]);
    await append({
      appends: [{ streamId: agentStream('drv3'), expectedVersion: 'any', events: [write(++n, '/after', 'x', 'w')] }],
    });
  });
  afterAll(async () => {
    await schema.drop();
  });

  /** Each agent folded the way the services fold it: its stream from the reader, evolveAgent and applyVfsEvent. */
  async function servicesWay(): Promise<Map<string, { kernel: string; vfs: string; state: AgentState }>> {
    const reader = new PgEventReader(schema.service);
    const out = new Map<string, { kernel: string; vfs: string; state: AgentState }>();
    for (const a of AGENTS) {
      let k: AgentState | null = null;
      const v = emptyVfsState();
      for (const e of await reader.readStream(agentStream(a), { limit: 10000 })) {
        k = evolveAgent(k, e);
        applyVfsEvent(v, e);
      }
      out.set(agentStream(a), { kernel: agentDigest(k!), vfs: vfsDigest(v), state: k! });
    }
    return out;
  }

  it('folds the whole log to the services’ digests, a tampered row as a fault, in one thread and in several', async () => {
    const expected = await servicesWay();
    expect(expected.get(agentStream('drv3'))!.state.faults).toBe(1);
    expect(expected.get(agentStream('drv3'))!.state.lastFault?.position).toBe(tampered);

    const sequential = await replayLog(source(), { workers: 1, batchSize: 50 });
    expect(sequential.workers).toBe(1);
    expect(sequential.events).toBe(AGENTS.length * 61 + 2);
    expect([...sequential.agents.keys()]).toEqual(AGENTS.map(agentStream));
    for (const [stream, a] of sequential.agents) {
      expect(agentDigest(a.kernel)).toBe(expected.get(stream)!.kernel);
      expect(vfsDigest(a.vfs)).toBe(expected.get(stream)!.vfs);
    }
    expect(sequential.agents.get(agentStream('drv3'))!.kernel.faults).toBe(1);

    // the parallel path runs the compiled worker (the end-to-end tests run the services from dist/ too)
    expect(replayWorkerUrl()).not.toBeNull();
    for (const workers of [2, 3]) {
      const parallel = await replayLog(source(), { workers, batchSize: 20 });
      expect(parallel.workers).toBe(workers);
      expect(parallel.events).toBe(sequential.events);
      expect(parallel.lastPosition).toBe(sequential.lastPosition);
      expect([...parallel.agents.keys()]).toEqual([...sequential.agents.keys()]);
      for (const [stream, a] of parallel.agents) {
        expect(Buffer.isBuffer([...a.vfs.files.values()][0].content)).toBe(true);
        expect(agentDigest(a.kernel)).toBe(expected.get(stream)!.kernel);
        expect(vfsDigest(a.vfs)).toBe(expected.get(stream)!.vfs);
      }
    }
  });

  it('replays up to a position, and one agent through its stream', async () => {
    const upTo = 100;
    const partial = await replayLog(source(), { upTo, workers: 2 });
    expect(partial.lastPosition).toBeLessThanOrEqual(upTo);
    const sequential = await replayLog(source(), { upTo, workers: 1 });
    expect(partial.events).toBe(sequential.events);
    for (const [stream, a] of sequential.agents)
      expect(agentDigest(partial.agents.get(stream)!.kernel)).toBe(agentDigest(a.kernel));

    const one = await replayLog(source(), { agentId: 'drv3' });
    expect([...one.agents.keys()]).toEqual([agentStream('drv3')]);
    const whole = await servicesWay();
    expect(agentDigest(one.agents.get(agentStream('drv3'))!.kernel)).toBe(whole.get(agentStream('drv3'))!.kernel);
  });
});
