import { connect } from '@nats-io/transport-node';
import { randomUUID } from 'node:crypto';
import { EventTypes, Subjects, agentPartition, parseNatsUrl, type SyscallReply } from '#contracts';
import { openLogDb, type LogDb } from '../support/log-db.js';
import { startTestStack, type TestStack } from '../support/test-stack.js';
import { waitFor } from '../support/wait-for.js';

/**
 * Signals between agents in different partitions: the sender's SignalSent (the outbox) and the
 * target's SignalDelivered are two transactions in two partitions, made exactly-once by the
 * relay's idempotency key and replayable from the log, also while kernels are SIGKILLed.
 */
const P = 4;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `n` agent ids whose streams live in partition `p` of a log of P. */
function idsIn(p: number, n: number, prefix: string): string[] {
  const out: string[] = [];
  for (let i = 0; out.length < n; i++) if (agentPartition(`${prefix}${i}`, P) === p) out.push(`${prefix}${i}`);
  return out;
}

interface Row {
  partition: number;
  position: number;
  stream_id: string;
  event_id: string;
  idempotency_key: string | null;
  type: string;
  data: string;
  metadata: string;
  recorded_at: Date;
}

describe('signals across partitions', () => {
  let t: TestStack;
  let db: LogDb;
  const senders = idsIn(1, 4, 'snd');
  const targets = idsIn(2, 4, 'tgt');

  beforeAll(async () => {
    t = await startTestStack({
      services: ['recorder', 'policy', 'vfs', 'kernel', 'kernel'],
      partitions: P,
      env: { AGENTOS_SIGNAL_RELAY_MS: '200' },
    });
    for (const a of [...senders, ...targets]) {
      expect(await t.request(Subjects.adminAgentsCreate, { agentId: a })).toMatchObject({ agentId: a });
    }
    db = await openLogDb(t.schema);
  });
  afterAll(async () => {
    await db?.end();
    await t?.close();
  });

  const sys = async (agentId: string, syscall: string, args: Record<string, unknown>, id = randomUUID()) =>
    t.request<SyscallReply>(Subjects.syscall(agentId), { id, syscall, args });

  const events = (type: string) =>
    db.query<Row>(
      `SELECT position, stream_id, event_id::text AS event_id, idempotency_key, type, data, metadata, recorded_at
         FROM events WHERE type = $1 ORDER BY position`,
      [type],
    );

  it('delivers a signal to an agent in another partition once, after its cause, and the target obeys it', async () => {
    const [s, target] = [senders[0], targets[0]];
    const r = await sys(s, 'SYS_SIGNAL', { target, signal: 'SIGSTOP', reason: 'pause' });
    expect(r).toMatchObject({ success: true, returnValue: true });
    expect(r.position).toMatch(/^1:\d+$/); // recorded in the sender's partition

    // the target stops: its syscalls answer -6 once the delivery is recorded
    await waitFor(
      async () => (await sys(target, 'SYS_WRITE', { path: '/mem/working/x', data: '1' })).errorCode === -6,
      10_000,
      'the target to be stopped',
    );
    const sent = (await events(EventTypes.SignalSent)).filter((e) => e.stream_id === `agent:${s}`);
    expect(sent).toHaveLength(1);
    expect(sent[0].partition).toBe(1);
    expect(JSON.parse(sent[0].data)).toMatchObject({ target, signal: 'SIGSTOP', source: s, reason: 'pause' });
    const delivered = (await events(EventTypes.SignalDelivered)).filter(
      (e) => e.idempotency_key === `signal:${sent[0].event_id}`,
    );
    expect(delivered).toHaveLength(1);
    expect(delivered[0]).toMatchObject({ partition: 2, stream_id: `agent:${target}` });
    expect(JSON.parse(delivered[0].metadata)).toMatchObject({ causationId: sent[0].event_id });
    expect(delivered[0].recorded_at.getTime()).toBeGreaterThan(sent[0].recorded_at.getTime());

    expect(await sys(s, 'SYS_SIGNAL', { target, signal: 'SIGCONT' })).toMatchObject({ success: true });
    await waitFor(
      async () => (await sys(target, 'SYS_WRITE', { path: '/mem/working/x', data: '1' })).success === true,
      10_000,
      'the target to run again',
    );
  });

  it('delivers an outbox entry whose sender died before relaying it (the sweep)', async () => {
    // a SignalSent committed by a kernel that died at once: appended straight to the log
    const sentId = randomUUID();
    const s = senders[1];
    const target = targets[1];
    const head = await t.request<{ status: string }>(Subjects.recorderAppend, {
      appends: [
        {
          streamId: `agent:${s}`,
          expectedVersion: 'any',
          events: [
            {
              eventId: sentId,
              type: EventTypes.SignalSent,
              schemaVersion: 1,
              data: { target, signal: 'SIGUSR1', source: s, reason: 'orphan', at: new Date().toISOString() },
              metadata: { agentId: s, service: 'test' },
            },
          ],
        },
      ],
    });
    expect(head.status).toBe('committed');
    await waitFor(
      async () => (await events(EventTypes.SignalDelivered)).some((e) => e.idempotency_key === `signal:${sentId}`),
      10_000,
      'the sweep to deliver the orphaned signal',
    );
  });

  it('keeps every acknowledged signal exactly once while kernels are SIGKILLed', async () => {
    for (const target of targets) {
      expect(await sys(target, 'SYS_SIGACTION', { signal: 'SIGUSR1', action: 'handle' })).toMatchObject({
        success: true,
      });
    }
    const nc = await connect({ ...parseNatsUrl(t.nc.getServer()), maxReconnectAttempts: -1 });
    const acked = new Set<string>(); // request ids answered success
    let running = true;
    const load = Promise.all(
      senders.map(async (s, k) => {
        for (let i = 0; running; i++) {
          const id = `${s}-sig-${i}`;
          const body = JSON.stringify({
            id,
            syscall: 'SYS_SIGNAL',
            args: { target: targets[(k + i) % targets.length], signal: 'SIGUSR1', reason: id },
          });
          for (let attempt = 0; attempt < 40; attempt++) {
            try {
              const r = (
                await nc.request(t.subject(Subjects.syscall(s)), body, { timeout: 8000 })
              ).json<SyscallReply>();
              if (r.success) {
                acked.add(id);
                break;
              }
              if (r.errorCode !== -7) throw new Error(`unexpected reply ${JSON.stringify(r)}`);
            } catch (err) {
              if ((err as Error).message.startsWith('unexpected')) throw err;
            }
            await sleep(50 * Math.min(attempt + 1, 10));
          }
        }
      }),
    );
    for (let round = 0; round < 4; round++) {
      await waitFor(() => acked.size >= (round + 1) * 15, 30_000, 'signals acknowledged');
      await t.stack.running('kernel')[round % 2 === 0 ? 0 : 1]?.kill();
      await t.stack.start('kernel');
    }
    running = false;
    await load;
    await nc.close();
    expect(acked.size).toBeGreaterThanOrEqual(60);

    // every acknowledged signal: one SignalSent with its request, and exactly one delivery of it
    const sentByRequest = new Map<string, Row>();
    for (const e of await events(EventTypes.SignalSent)) {
      const reason = JSON.parse(e.data).reason as string;
      if (reason.includes('-sig-')) {
        expect(sentByRequest.has(reason)).toBe(false);
        sentByRequest.set(reason, e);
      }
    }
    for (const id of acked) expect(sentByRequest.has(id)).toBe(true);
    await waitFor(
      async () => {
        const keys = new Set((await events(EventTypes.SignalDelivered)).map((e) => e.idempotency_key));
        return [...sentByRequest.values()].every((s) => keys.has(`signal:${s.event_id}`));
      },
      30_000,
      'every sent signal to be delivered',
    );
    const deliveries = new Map<string, number>();
    for (const e of await events(EventTypes.SignalDelivered)) {
      if (e.idempotency_key?.startsWith('signal:')) {
        deliveries.set(e.idempotency_key, (deliveries.get(e.idempotency_key) ?? 0) + 1);
        const cause = JSON.parse(e.metadata).causationId as string;
        expect(e.idempotency_key).toBe(`signal:${cause}`);
      }
    }
    for (const s of sentByRequest.values()) expect(deliveries.get(`signal:${s.event_id}`)).toBe(1);
    // and the chain of every partition still verifies
    for (const r of await db.verify()) expect(r).toMatchObject({ ok: true });
  });
});
