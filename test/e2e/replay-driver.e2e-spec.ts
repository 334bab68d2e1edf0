import { randomUUID } from 'node:crypto';
import { EventTypes, agentStream } from '#contracts';
import { agentDigest, evolveAgent, type AgentState } from '#agent-state';
import { PgEventAppender, PgEventReader, type NewEvent } from '#event-store';
import { applyVfsEvent, emptyVfsState, vfsDigest } from '#vfs-core';
import { replayWorkerUrl } from '../../apps/cli/src/replay/parallel-replay.js';
import { replayLog } from '../../apps/cli/src/replay/replay-log.js';
import { createTestSchema, type TestSchema } from '../support/test-schema.js';

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
  let schema: TestSchema;
  let tampered: number;

  beforeAll(async () => {
    schema = await createTestSchema('drv');
    const appender = new PgEventAppender(schema.servicePool);
    for (const a of AGENTS)
      await appender.append({ appends: [{ streamId: agentStream(a), expectedVersion: 0, events: [created(a)] }] });
    let n = 0;
    for (let round = 0; round < 30; round++) {
      await appender.append({
        appends: AGENTS.map((a, i) => ({
          streamId: agentStream(a),
          expectedVersion: 'any' as const,
          events: [
            write(++n, `/mem/working/f${round % 4}.txt`, `${a} ${round} é ✓`, 'w'),
            write(++n, '/mem/episodic/log', `${round}|${i}\n`, 'a'),
          ],
        })),
      });
    }
    await appender.append({
      appends: [
        {
          streamId: '$policy',
          expectedVersion: 'any',
          events: [{ eventId: randomUUID(), type: 'X', schemaVersion: 1, data: {} }],
        },
      ],
    });
    // tampering the database itself allows: a row whose data is not JSON, in drv3's stream
    const head = (await schema.ownerPool.query('SELECT position FROM log_head')).rows[0].position as number;
    const version = (
      await schema.ownerPool.query('SELECT max(stream_version)::int AS v FROM events WHERE stream_id = $1', [
        agentStream('drv3'),
      ])
    ).rows[0].v as number;
    tampered = head + 1;
    await schema.ownerPool.query(
      `INSERT INTO events (position, stream_id, stream_version, event_id, type, schema_version, data, metadata, recorded_at, prev_hash, hash)
       VALUES ($1, $2, $3, $4, 'SyscallRecorded', 2, '{"at":"2026-', '{}', now(), '', '')`,
      [tampered, agentStream('drv3'), version + 1, randomUUID()],
    );
    await schema.ownerPool.query('UPDATE log_head SET position = $1', [tampered]);
    await appender.append({
      appends: [{ streamId: agentStream('drv3'), expectedVersion: 'any', events: [write(++n, '/after', 'x', 'w')] }],
    });
  });
  afterAll(async () => {
    await schema.drop();
  });

  /** Each agent folded the way the services fold it: its stream from the reader, evolveAgent and applyVfsEvent. */
  async function servicesWay(): Promise<Map<string, { kernel: string; vfs: string; state: AgentState }>> {
    const reader = new PgEventReader(schema.servicePool);
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

    const sequential = await replayLog(schema.ownerPool, { workers: 1, batchSize: 50 });
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
      const parallel = await replayLog(schema.ownerPool, { workers, batchSize: 20 });
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
    const partial = await replayLog(schema.ownerPool, { upTo, workers: 2 });
    expect(partial.lastPosition).toBeLessThanOrEqual(upTo);
    const sequential = await replayLog(schema.ownerPool, { upTo, workers: 1 });
    expect(partial.events).toBe(sequential.events);
    for (const [stream, a] of sequential.agents)
      expect(agentDigest(partial.agents.get(stream)!.kernel)).toBe(agentDigest(a.kernel));

    const one = await replayLog(schema.ownerPool, { agentId: 'drv3' });
    expect([...one.agents.keys()]).toEqual([agentStream('drv3')]);
    const whole = await servicesWay();
    expect(agentDigest(one.agents.get(agentStream('drv3'))!.kernel)).toBe(whole.get(agentStream('drv3'))!.kernel);
  });
});
