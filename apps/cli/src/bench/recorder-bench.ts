import { connect } from '@nats-io/transport-node';
import { randomUUID } from 'node:crypto';
import { Subjects, parseNatsUrl, withSubjectPrefix } from '#contracts';
import { runClosedLoop } from './closed-loop.js';
import type { PhaseSettings } from './baselines.js';
import { metered, type MeteredLoad, type ResourceMeter } from './resource-meter.js';

/** An event shaped like the kernel's for a 100-byte SYS_WRITE (about 700 bytes of JSON). */
function syscallEvent(requestId: string, at: string) {
  return {
    requestId,
    syscall: 'SYS_WRITE',
    args: { path: '/mem/working/f0', data: 'x'.repeat(100) },
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
    result: { success: true, returnValue: 100, errorCode: null, errorMessage: null },
    vfs: { op: 'write', path: '/mem/working/f0', mode: 'w', encoding: 'utf8', bytes: 100 },
    at,
    executionTimeMs: 1.5,
  };
}

export interface RecorderBenchResult {
  appends: MeteredLoad;
  /** Mean events per group-commit transaction, read from the recorder's own metrics. */
  eventsPerCommit: number | null;
}

/**
 * `concurrency` clients each append one event at a time to a stream of their own through the
 * recorder over NATS, waiting for each reply (which comes after the commit).
 */
export async function recorderAppendBench(
  natsUrl: string,
  subjectPrefix: string,
  recorderHttpPort: number,
  s: PhaseSettings,
  meter?: ResourceMeter,
): Promise<RecorderBenchResult> {
  const nc = await connect(parseNatsUrl(natsUrl));
  const subject = withSubjectPrefix(Subjects.recorderAppend, subjectPrefix);
  const at = new Date().toISOString();
  const before = await commitStats(recorderHttpPort);
  try {
    const appends = await metered(meter, (window) =>
      runClosedLoop({
        ...s,
        window,
        op: async (w, i) => {
          const body = {
            appends: [
              {
                streamId: `bench:w${w}`,
                expectedVersion: 'any',
                events: [
                  {
                    eventId: randomUUID(),
                    type: 'SyscallRecorded',
                    schemaVersion: 2,
                    idempotencyKey: `req:w${w}-${i}`,
                    data: syscallEvent(`w${w}-${i}`, at),
                    metadata: { service: 'bench', agentId: `w${w}`, correlationId: `w${w}-${i}` },
                  },
                ],
              },
            ],
          };
          const reply = (await nc.request(subject, JSON.stringify(body), { timeout: 10_000 })).json<{
            status?: string;
          }>();
          if (reply.status !== 'committed') throw new Error(JSON.stringify(reply));
        },
      }),
    );
    const after = await commitStats(recorderHttpPort);
    const eventsPerCommit =
      before && after && after.count > before.count
        ? Math.round(((after.sum - before.sum) / (after.count - before.count)) * 10) / 10
        : null;
    return { appends, eventsPerCommit };
  } finally {
    await nc.close();
  }
}

async function commitStats(port: number): Promise<{ sum: number; count: number } | null> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const sum = Number(/^agentos_recorder_batch_events_sum\{[^}]*\} (\S+)$/m.exec(text)?.[1]);
    const count = Number(/^agentos_recorder_batch_events_count\{[^}]*\} (\S+)$/m.exec(text)?.[1]);
    return Number.isFinite(sum) && Number.isFinite(count) ? { sum, count } : null;
  } catch {
    return null;
  }
}
