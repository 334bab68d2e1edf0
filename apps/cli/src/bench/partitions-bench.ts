import pg from 'pg';
import { agentPartition } from '#contracts';
import { LatencyProxy, LocalStack } from '#devstack';
import { natsRequestReplyBaseline, pgInsertBaselines, type PhaseSettings } from './baselines.js';
import type { LoadResult } from './closed-loop.js';
import { recorderAppendBench } from './recorder-bench.js';
import { ResourceMeter, type MeteredLoad } from './resource-meter.js';

export interface PartitionRun extends MeteredLoad {
  partitions: number;
  /** Recorder processes (each writes every partition it is sent; one writer per partition inside). */
  recorders: number;
  eventsPerCommit: number | null;
  commitMs: number | null;
}

export interface PartitionsBenchResult {
  /** Added per direction by the proxy, as measured: half the extra round-trip time of `SELECT 1`. */
  addedLatencyMs: number;
  roundTripMs: { direct: number; proxied: number };
  p1: PartitionRun;
  p4: PartitionRun;
  /** p4 events/s over p1 events/s. */
  speedup: number;
  baselines: { natsRequestReply: LoadResult; pgSingleRowInsertProxied: LoadResult; pgBatchedInsertProxied: LoadResult };
}

/**
 * The recorder append workload against Postgres behind a proxy that adds `delayMs` each way (a
 * database in another zone), once with a log of 1 partition and once with 4, in the same run.
 * Clients append to agent streams spread evenly over the partitions (the same streams both
 * times), so each partition's writer takes its share; the difference is how many commits are in
 * flight at once: one per partition.
 */
export async function partitionsBench(o: {
  pgUrl: string;
  natsUrl: string;
  nats: { pid: number; monitorPort: number } | null;
  id: string;
  s: PhaseSettings;
  delayMs: number;
  progress: (line: string) => void;
}): Promise<PartitionsBenchResult> {
  const target = new URL(o.pgUrl);
  const proxy = await LatencyProxy.start({
    targetHost: target.hostname,
    targetPort: Number(target.port || 5432),
    delayMs: o.delayMs,
  });
  const proxied = LatencyProxy.via(o.pgUrl, proxy.port);
  try {
    o.progress('measuring the added latency...');
    const roundTripMs = { direct: await selectOneMs(o.pgUrl), proxied: await selectOneMs(proxied) };
    const addedLatencyMs = Math.round(((roundTripMs.proxied - roundTripMs.direct) / 2) * 100) / 100;

    o.progress(`raw NATS request-reply, ${o.s.concurrency} in flight...`);
    const natsRequestReply = await natsRequestReplyBaseline(o.natsUrl, o.s);
    o.progress('raw Postgres inserts through the proxy...');
    const schema = `bench_${o.id}_raw`;
    await withClient(o.pgUrl, (c) => c.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`));
    let pgb;
    try {
      pgb = await pgInsertBaselines(proxied, schema, o.s);
    } finally {
      await withClient(o.pgUrl, (c) => c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
    }

    const run = async (partitions: number): Promise<PartitionRun> => {
      const stack = await LocalStack.create({
        pgUrl: proxied,
        natsUrl: o.natsUrl,
        schema: `bench_${o.id}_p${partitions}`,
        subjectPrefix: `bench${o.id}p${partitions}`,
        partitions,
      });
      try {
        o.progress(`recorder append, ${partitions} partition(s), ${o.s.concurrency} clients...`);
        // one writer per partition, each a recorder process of its own (as on separate hosts)
        const recorders = [];
        for (let p = 0; p < partitions; p++) {
          recorders.push(await stack.start('recorder', { AGENTOS_RECORDER_PARTITIONS: String(p) }));
        }
        const meter = new ResourceMeter(() => stack.running().map((p) => ({ name: p.service, pid: p.pid })), o.nats);
        const streams = spreadStreams(o.s.concurrency, 4, `${o.id}w`);
        const r = await recorderAppendBench(
          o.natsUrl,
          stack.o.subjectPrefix,
          recorders.map((x) => x.httpPort),
          o.s,
          meter,
          (w) => `agent:${streams[w]}`,
          (w) => agentPartition(streams[w], partitions),
        );
        return {
          ...r.appends,
          partitions,
          recorders: recorders.length,
          eventsPerCommit: r.eventsPerCommit,
          commitMs: r.commitMs,
        };
      } finally {
        await stack.destroy();
      }
    };
    const p1 = await run(1);
    const p4 = await run(4);
    return {
      addedLatencyMs,
      roundTripMs,
      p1,
      p4,
      speedup: p1.perSecond > 0 ? Math.round((p4.perSecond / p1.perSecond) * 100) / 100 : 0,
      baselines: {
        natsRequestReply,
        pgSingleRowInsertProxied: pgb.singleRow,
        pgBatchedInsertProxied: pgb.batched,
      },
    };
  } finally {
    await proxy.stop();
  }
}

/** `n` agent ids, dealt round-robin over `partitions` partitions of a log of that many. */
export function spreadStreams(n: number, partitions: number, prefix: string): string[] {
  const byPartition: string[][] = Array.from({ length: partitions }, () => []);
  for (let i = 0; byPartition.some((b) => b.length < Math.ceil(n / partitions)); i++) {
    const id = `${prefix}${i}`;
    const p = agentPartition(id, partitions);
    if (byPartition[p].length < Math.ceil(n / partitions)) byPartition[p].push(id);
  }
  return Array.from({ length: n }, (_, w) => byPartition[w % partitions][Math.floor(w / partitions)]);
}

/** Median time of `SELECT 1` on a fresh connection's session. */
async function selectOneMs(url: string): Promise<number> {
  return withClient(url, async (c) => {
    const times: number[] = [];
    for (let i = 0; i < 40; i++) {
      const t0 = performance.now();
      await c.query('SELECT 1');
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    return Math.round(times[times.length >> 1] * 100) / 100;
  });
}

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}
