import type { Command } from 'commander';
import pg from 'pg';
import { loadConfig } from '#config';
import { LocalStack, NatsServerProcess, findNatsServer } from '#devstack';
import { natsRequestReplyBaseline, pgInsertBaselines, type PhaseSettings } from '../bench/baselines.js';
import type { LoadResult } from '../bench/closed-loop.js';
import { partitionsBench } from '../bench/partitions-bench.js';
import { recorderAppendBench } from '../bench/recorder-bench.js';
import { syscallBench, applyBenchPolicy } from '../bench/syscall-bench.js';
import { benchmarkDecisions } from '#policy-engine';
import { soak } from '../bench/soak.js';
import { ResourceMeter, type MeteredLoad } from '../bench/resource-meter.js';
import { createPgPool } from '#event-store';
import { replayLog } from '../replay/replay-log.js';
import type { CliOutput } from '../output.js';

interface BenchOptions {
  latency: string;
  duration: string;
  warmup: string;
  concurrency: string;
  agents: string;
  kernels: string;
  keep?: boolean;
  sharedNats?: boolean;
}

export function registerBench(program: Command, out: CliOutput): void {
  program
    .command('bench')
    .description(
      'start a private stack (own schema and subject prefix), measure it, and print throughput and latency ' +
        'beside raw NATS request-reply and raw Postgres insert rates measured in the same run',
    )
    .argument('[scenario]', 'recorder | syscalls | all | soak | partitions', 'all')
    .option('-d, --duration <seconds>', 'measured seconds per phase', '5')
    .option('-w, --warmup <seconds>', 'unmeasured seconds before each phase', '1')
    .option('-c, --concurrency <clients>', 'concurrent recorder clients', '64')
    .option('-a, --agents <n>', 'agents for the syscall scenario (one request outstanding each)', '64')
    .option('-k, --kernels <n>', 'kernel replicas for the syscall scenario', '1')
    .option('--keep', 'keep the bench schema afterwards')
    .option('--latency <ms>', 'partitions scenario: latency the Postgres proxy adds each way', '1')
    .option(
      '--shared-nats',
      'use AGENTOS_NATS_URL instead of a private nats-server (then no NATS message counts and no nats-server CPU)',
    )
    .action(async (scenario: string, o: BenchOptions) => {
      const c = loadConfig('cli');
      const s: PhaseSettings = {
        concurrency: positiveInt(o.concurrency, 'concurrency'),
        durationMs: positiveInt(o.duration, 'duration') * 1000,
        warmupMs: Number(o.warmup) * 1000,
      };
      if (!['recorder', 'syscalls', 'all', 'soak', 'partitions'].includes(scenario))
        throw new Error(`unknown scenario '${scenario}'`);
      if (scenario === 'soak') return runSoak(c, s, positiveInt(o.agents, 'agents'), o.keep, out);
      if (scenario === 'partitions') return runPartitions(c, s, o, out);
      const agents = positiveInt(o.agents, 'agents');
      const kernels = positiveInt(o.kernels, 'kernels');
      const id = `${Date.now().toString(36)}${process.pid}`;
      // a private nats-server: its monitoring endpoint counts the messages, /proc its CPU
      const nats = !o.sharedNats && findNatsServer() ? new NatsServerProcess() : null;
      if (nats) await nats.start();
      const natsUrl = nats?.url ?? c.natsUrl;
      const stack = await LocalStack.create({
        pgUrl: c.pgUrl,
        natsUrl,
        schema: `bench_${id}`,
        subjectPrefix: `bench${id}`,
      });
      const meter = new ResourceMeter(
        () => stack.running().map((p) => ({ name: p.service, pid: p.pid })),
        nats ? { pid: nats.pid, monitorPort: nats.monitorPort } : null,
      );
      const rows: Row[] = [];
      const report: Record<string, unknown> = {
        settings: s,
        nats: nats ? 'private nats-server (counts messages)' : `shared ${c.natsUrl}`,
      };
      try {
        out.progress('starting recorder...');
        const recorder = await stack.start('recorder');

        out.progress(`raw NATS request-reply, ${s.concurrency} in flight...`);
        const natsBaseline = await natsRequestReplyBaseline(natsUrl, s);
        out.progress('raw Postgres inserts...');
        const pgb = await pgInsertBaselines(c.pgUrl, stack.o.schema, s);
        report.baselines = {
          natsRequestReply: natsBaseline,
          pgSingleRowInsert: pgb.singleRow,
          pgBatchedInsert: pgb.batched,
          pgBatchRows: pgb.batchRows,
        };
        rows.push(rate(`raw NATS request-reply (${s.concurrency} in flight)`, natsBaseline, 'req/s'));
        rows.push(rate(`raw pg single-row INSERT+COMMIT (${pgb.singleRowConnections} conns)`, pgb.singleRow, 'rows/s'));
        rows.push(rate(`raw pg batched INSERT (${pgb.batchRows} rows/tx, 4 conns)`, pgb.batched, 'rows/s'));

        await settle(c.pgUrl);
        if (scenario === 'recorder' || scenario === 'all') {
          out.progress(`recorder append, ${s.concurrency} clients...`);
          const rec = await recorderAppendBench(natsUrl, stack.o.subjectPrefix, recorder.httpPort, s, meter);
          report.recorder = { ...rec.appends, eventsPerCommit: rec.eventsPerCommit };
          report.recorderRatios = {
            vsPgSingleRow: ratio(rec.appends.perSecond, pgb.singleRow.perSecond),
            vsPgBatched: ratio(rec.appends.perSecond, pgb.batched.perSecond),
            vsNatsRequestReply: ratio(rec.appends.perSecond, natsBaseline.perSecond),
          };
          rows.push({
            ...rate(`recorder append over NATS (${s.concurrency} clients, 1 event each)`, rec.appends, 'events/s'),
            ratio: `${ratio(rec.appends.perSecond, pgb.singleRow.perSecond)}x pg single-row, ${ratio(rec.appends.perSecond, natsBaseline.perSecond)}x NATS req-rep`,
          });
          rows.push(...costRows('  per event', rec.appends));
          if (rec.eventsPerCommit !== null)
            rows.push({ metric: 'recorder events per transaction (mean)', value: String(rec.eventsPerCommit) });
        }
        if (scenario === 'syscalls' || scenario === 'all') {
          await settle(c.pgUrl);
          out.progress('starting vfs and kernel...');
          await stack.start('vfs');
          await stack.start('policy');
          for (let i = 0; i < kernels; i++) await stack.start('kernel');
          out.progress(`syscalls, ${agents} agents, no policy...`);
          const sb = await syscallBench(natsUrl, stack.o.subjectPrefix, s, agents, 'bench', meter);
          await settle(c.pgUrl);
          out.progress('applying a 100-rule policy...');
          await applyBenchPolicy(natsUrl, stack.o.subjectPrefix);
          out.progress(`syscalls, ${agents} agents, 100-rule policy...`);
          const withPolicy = await syscallBench(natsUrl, stack.o.subjectPrefix, s, agents, 'benchp', meter);
          const decisions = benchmarkDecisions(200_000);
          const pool = createPgPool({ pgUrl: c.pgUrl, pgSchema: stack.o.schema, pgRole: '' });
          let replay;
          try {
            out.progress('replaying the whole log...');
            // the replay driver: dense ranges read ahead, folded in place, in worker threads for a long log
            replay = await replayLog(pool);
          } finally {
            await pool.end();
          }
          report.syscalls = { agents: sb.agents, kernels, mixed: sb.mixed, sequential: sb.sequential };
          report.syscallsWithPolicy = { mixed: withPolicy.mixed, sequential: withPolicy.sequential, rules: 100 };
          report.policyDecision = decisions;
          report.replay = {
            events: replay.events,
            seconds: replay.seconds,
            eventsPerSecond: replay.eventsPerSecond,
            agents: replay.agents.size,
            workers: replay.workers,
          };
          report.syscallRatios = {
            vsNatsRequestReply: ratio(sb.mixed.perSecond, natsBaseline.perSecond),
            vsPgSingleRow: ratio(sb.mixed.perSecond, pgb.singleRow.perSecond),
          };
          rows.push({
            ...rate(
              `syscalls, ${agents} agents, 50% write 30% read 20% check (${kernels} kernel)`,
              sb.mixed,
              'syscalls/s',
            ),
            p95: sb.mixed.latency.p95Ms,
            ratio: `${ratio(sb.mixed.perSecond, natsBaseline.perSecond)}x NATS req-rep, ${ratio(sb.mixed.perSecond, pgb.singleRow.perSecond)}x pg single-row`,
          });
          rows.push(...costRows('  per syscall', sb.mixed));
          rows.push({
            ...rate('one agent, sequential syscalls', sb.sequential, 'syscalls/s'),
            p95: sb.sequential.latency.p95Ms,
          });
          rows.push(...costRows('  per syscall', sb.sequential));
          rows.push({
            ...rate(`same mix under a 100-rule policy (${kernels} kernel)`, withPolicy.mixed, 'syscalls/s'),
            p95: withPolicy.mixed.latency.p95Ms,
            ratio: `${ratio(withPolicy.mixed.perSecond, sb.mixed.perSecond)}x without policy`,
          });
          rows.push({
            ...rate('one agent, sequential, 100-rule policy', withPolicy.sequential, 'syscalls/s'),
            p95: withPolicy.sequential.latency.p95Ms,
          });
          rows.push({
            metric: `policy decision alone, 100 rules (${decisions.decisions.toLocaleString('en-US')} decisions, µs)`,
            value: `${decisions.meanUs} µs mean`,
            p50: decisions.p50Us,
            p99: decisions.p99Us,
          });
          rows.push({
            metric: `replay: fold the whole log (${replay.events} events, ${replay.agents.size} agents, ${replay.workers} thread${replay.workers > 1 ? 's' : ''})`,
            value: `${replay.eventsPerSecond.toLocaleString('en-US')} events/s`,
          });
        }
        out.progressDone();
      } finally {
        if (o.keep) await stack.stopAll();
        else await stack.destroy();
        await nats?.stop();
      }
      out.result(report, () =>
        out.table(
          ['metric', 'throughput', 'p50 ms', 'p95 ms', 'p99 ms', 'errors', 'ratio'],
          rows.map((r) => [r.metric, r.value, r.p50, r.p95, r.p99, r.errors, r.ratio]),
        ),
      );
    });
}

interface Row {
  metric: string;
  value: string;
  p50?: number;
  p95?: number;
  p99?: number;
  errors?: number;
  ratio?: string;
}

function rate(metric: string, r: LoadResult, unit: string): Row {
  return {
    metric,
    value: `${r.perSecond.toLocaleString('en-US')} ${unit}`,
    p50: r.latency.p50Ms,
    p99: r.latency.p99Ms,
    errors: r.errors,
  };
}

/** CPU µs and NATS messages per operation, with the per-process split, as table rows. */
function costRows(label: string, r: MeteredLoad): Row[] {
  if (r.cpuMicrosPerSyscall === undefined || r.cpuMicrosPerSyscall === null) return [];
  const split = Object.entries(r.cpuMicrosByProcess ?? {})
    .sort(([, a], [, b]) => (b ?? 0) - (a ?? 0))
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const rows: Row[] = [
    { metric: `${label}: CPU µs, all processes`, value: `${r.cpuMicrosPerSyscall} µs`, ratio: split },
  ];
  if (r.natsMessagesPerSyscall !== null && r.natsMessagesPerSyscall !== undefined) {
    rows.push({
      metric: `${label}: NATS messages (published, delivered)`,
      value: `${r.natsMessagesPerSyscall}, ${r.natsDeliveriesPerSyscall}`,
      ratio: `load generator ${r.loadGeneratorCpuMicros} µs`,
    });
  }
  return rows;
}

function ratio(a: number, b: number): number {
  return b > 0 ? Math.round((a / b) * 100) / 100 : 0;
}

function positiveInt(v: string, name: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer`);
  return n;
}

/** `bench soak`: steady load for --duration seconds (bounded), reporting whether memory stays flat. */
async function runSoak(
  c: ReturnType<typeof loadConfig>,
  s: PhaseSettings,
  agents: number,
  keep: boolean | undefined,
  out: CliOutput,
): Promise<void> {
  const id = `${Date.now().toString(36)}${process.pid}`;
  const stack = await LocalStack.create({
    pgUrl: c.pgUrl,
    natsUrl: c.natsUrl,
    schema: `soak_${id}`,
    subjectPrefix: `soak${id}`,
  });
  let result;
  try {
    for (const svc of ['recorder', 'vfs', 'policy', 'kernel'] as const) await stack.start(svc);
    result = await soak(c.natsUrl, stack.o.subjectPrefix, stack.running(), s.durationMs / 1000, agents, (line) =>
      out.progress(line),
    );
    out.progressDone();
  } finally {
    if (keep) await stack.stopAll();
    else await stack.destroy();
  }
  out.result(result, () => {
    const rates = result.perSecond.filter((x) => x > 0);
    process.stdout.write(
      `${result.syscalls.toLocaleString('en-US')} syscalls in ${result.seconds} s; throughput per 2 s: min ${Math.min(...rates)}, max ${Math.max(...rates)} syscalls/s\n`,
    );
    out.table(
      ['service', 'heap floor start MB', 'heap floor end MB', 'growth %', 'rss start MB', 'rss end MB', 'flat'],
      result.services.map((x) => [
        x.service,
        x.heapStartMb,
        x.heapEndMb,
        x.growthPct,
        x.rssStartMb,
        x.rssEndMb,
        x.flat ? 'yes' : 'NO',
      ]),
    );
    process.stdout.write(`memory ${result.flat ? 'stays flat' : 'GROWS'} over the run\n`);
  });
  if (!result.flat) process.exitCode = 1;
}

/** `bench partitions`: 1 vs 4 partitions behind a latency proxy, in the same run. */
async function runPartitions(
  c: ReturnType<typeof loadConfig>,
  s: PhaseSettings,
  o: BenchOptions,
  out: CliOutput,
): Promise<void> {
  const delayMs = Number(o.latency);
  if (!Number.isFinite(delayMs) || delayMs < 0 || delayMs > 100) throw new Error('--latency must be 0 to 100 ms');
  const id = `${Date.now().toString(36)}${process.pid}`;
  const nats = !o.sharedNats && findNatsServer() ? new NatsServerProcess() : null;
  if (nats) await nats.start();
  let r;
  try {
    await settle(c.pgUrl);
    r = await partitionsBench({
      pgUrl: c.pgUrl,
      natsUrl: nats?.url ?? c.natsUrl,
      nats: nats ? { pid: nats.pid, monitorPort: nats.monitorPort } : null,
      id,
      s,
      delayMs,
      progress: (line) => out.progress(line),
    });
    out.progressDone();
  } finally {
    await nats?.stop();
  }
  const report = {
    settings: { ...s, delayMs },
    partitions: {
      addedLatencyMs: r.addedLatencyMs,
      roundTripMs: r.roundTripMs,
      p1: r.p1,
      p4: r.p4,
      speedup: r.speedup,
    },
    baselines: r.baselines,
  };
  const rows: Row[] = [
    {
      metric: 'Postgres round trip (SELECT 1), direct → through the proxy',
      value: `${r.roundTripMs.direct} → ${r.roundTripMs.proxied} ms`,
    },
    rate(`raw NATS request-reply (${s.concurrency} in flight)`, r.baselines.natsRequestReply, 'req/s'),
    rate('raw pg single-row INSERT+COMMIT, through the proxy', r.baselines.pgSingleRowInsertProxied, 'rows/s'),
    rate('raw pg batched INSERT (500 rows/tx), through the proxy', r.baselines.pgBatchedInsertProxied, 'rows/s'),
  ];
  for (const run of [r.p1, r.p4]) {
    rows.push({
      ...rate(`recorder append, ${run.partitions} partition(s), ${s.concurrency} clients`, run, 'events/s'),
      ratio:
        run === r.p4
          ? `${r.speedup}x 1 partition`
          : `${ratio(run.perSecond, r.baselines.pgSingleRowInsertProxied.perSecond)}x pg single-row`,
    });
    rows.push(...costRows('  per event', run));
    if (run.eventsPerCommit !== null)
      rows.push({ metric: '  events per transaction (mean)', value: String(run.eventsPerCommit) });
  }
  out.result(report, () =>
    out.table(
      ['metric', 'throughput', 'p50 ms', 'p95 ms', 'p99 ms', 'errors', 'ratio'],
      rows.map((x) => [x.metric, x.value, x.p50, x.p95, x.p99, x.errors, x.ratio]),
    ),
  );
}

/**
 * Lets Postgres catch up between phases (a checkpoint now rather than in the middle of the next
 * phase), so one phase's writes do not bill the next. Needs a role allowed to CHECKPOINT; skipped
 * quietly otherwise.
 */
async function settle(pgUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: pgUrl });
  try {
    await client.connect();
    await client.query('CHECKPOINT');
  } catch {
    // not allowed or not reachable: measure anyway
  } finally {
    await client.end().catch(() => undefined);
  }
  await new Promise((r) => setTimeout(r, 1000));
}
