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
  /** Mean duration of one group commit (ms), from the same metrics. */
  commitMs: number | null;
}

/**
 * `concurrency` clients each append one event at a time to a stream of their own through the
 * recorder over NATS, waiting for each reply (which comes after the commit).
 */
export async function recorderAppendBench(
  natsUrl: string,
  subjectPrefix: string,
  /** Every recorder's HTTP port (metrics are summed over them). */
  recorderHttpPorts: number | number[],
  s: PhaseSettings,
  meter?: ResourceMeter,
  /** The stream client `w` appends to (default `bench:w<w>`, all in partition 0). */
  streamOf: (w: number) => string = (w) => `bench:w${w}`,
  /**
   * Send each append as a one-request batch to its partition's writer, as kernels do (the
   * partition of client `w`'s stream), instead of the public subject.
   */
  partitionOf?: (w: number) => number,
): Promise<RecorderBenchResult> {
  const nc = await connect(parseNatsUrl(natsUrl));
  const subject = withSubjectPrefix(Subjects.recorderAppend, subjectPrefix);
  const at = new Date().toISOString();
  const ports = Array.isArray(recorderHttpPorts) ? recorderHttpPorts : [recorderHttpPorts];
  const before = await commitStatsOf(ports);
  try {
    const appends = await metered(meter, (window) =>
      runClosedLoop({
        ...s,
        window,
        op: async (w, i) => {
          const body = {
            appends: [
              {
                streamId: streamOf(w),
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
          if (partitionOf) {
            const batch = withSubjectPrefix(Subjects.recorderAppendBatch(partitionOf(w)), subjectPrefix);
            const reply = (await nc.request(batch, JSON.stringify({ requests: [body] }), { timeout: 10_000 })).json<{
              outcomes?: { status?: string }[];
            }>();
            if (reply.outcomes?.[0]?.status !== 'committed') throw new Error(JSON.stringify(reply));
            return;
          }
          const reply = (await nc.request(subject, JSON.stringify(body), { timeout: 10_000 })).json<{
            status?: string;
          }>();
          if (reply.status !== 'committed') throw new Error(JSON.stringify(reply));
        },
      }),
    );
    const after = await commitStatsOf(ports);
    const eventsPerCommit =
      before && after && after.count > before.count
        ? Math.round(((after.sum - before.sum) / (after.count - before.count)) * 10) / 10
        : null;
    const commitMs =
      before && after && after.commits > before.commits
        ? Math.round(((after.commitSeconds - before.commitSeconds) / (after.commits - before.commits)) * 1e5) / 100
        : null;
    return { appends, eventsPerCommit, commitMs };
  } finally {
    await nc.close();
  }
}

type CommitStats = { sum: number; count: number; commitSeconds: number; commits: number };

async function commitStatsOf(ports: number[]): Promise<CommitStats | null> {
  const all = await Promise.all(ports.map(commitStats));
  if (all.some((x) => x === null)) return null;
  return (all as CommitStats[]).reduce((a, b) => ({
    sum: a.sum + b.sum,
    count: a.count + b.count,
    commitSeconds: a.commitSeconds + b.commitSeconds,
    commits: a.commits + b.commits,
  }));
}

async function commitStats(
  port: number,
): Promise<{ sum: number; count: number; commitSeconds: number; commits: number } | null> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    // summed over partitions
    let sum = 0;
    let count = 0;
    let commitSeconds = 0;
    let commits = 0;
    for (const m of text.matchAll(/^agentos_recorder_(batch_events|commit_seconds)_(sum|count)\{[^}]*\} (\S+)$/gm)) {
      const v = Number(m[3]);
      if (m[1] === 'batch_events') {
        if (m[2] === 'sum') sum += v;
        else count += v;
      } else if (m[2] === 'sum') commitSeconds += v;
      else commits += v;
    }
    return Number.isFinite(sum) && Number.isFinite(count) ? { sum, count, commitSeconds, commits } : null;
  } catch {
    return null;
  }
}
