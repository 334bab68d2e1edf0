import { connect } from '@nats-io/transport-node';
import { randomUUID } from 'node:crypto';
import { Subjects, withSubjectPrefix } from '#contracts';
import { runClosedLoop, type LoadResult } from './closed-loop.js';
import type { PhaseSettings } from './baselines.js';

export interface RecorderBenchResult {
  appends: LoadResult;
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
): Promise<RecorderBenchResult> {
  const nc = await connect({ servers: natsUrl });
  const subject = withSubjectPrefix(Subjects.recorderAppend, subjectPrefix);
  const payload = 'x'.repeat(120);
  const before = await commitStats(recorderHttpPort);
  try {
    const appends = await runClosedLoop({
      ...s,
      op: async (w, i) => {
        const body = {
          appends: [
            {
              streamId: `bench:w${w}`,
              expectedVersion: 'any',
              events: [
                {
                  eventId: randomUUID(),
                  type: 'BenchEvent',
                  schemaVersion: 1,
                  idempotencyKey: `w${w}-${i}`,
                  data: { w, i, payload },
                  metadata: { service: 'bench' },
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
    });
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
