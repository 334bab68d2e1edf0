import type { Command } from 'commander';
import { loadConfig } from '#config';
import { LocalStack } from '#devstack';
import { natsRequestReplyBaseline, pgInsertBaselines, type PhaseSettings } from '../bench/baselines.js';
import type { LoadResult } from '../bench/closed-loop.js';
import { recorderAppendBench } from '../bench/recorder-bench.js';
import type { CliOutput } from '../output.js';

interface BenchOptions {
  duration: string;
  warmup: string;
  concurrency: string;
  keep?: boolean;
}

export function registerBench(program: Command, out: CliOutput): void {
  program
    .command('bench')
    .description(
      'start a private stack (own schema and subject prefix), measure it, and print throughput and latency ' +
        'beside raw NATS request-reply and raw Postgres insert rates measured in the same run',
    )
    .argument('[scenario]', 'recorder | all', 'all')
    .option('-d, --duration <seconds>', 'measured seconds per phase', '5')
    .option('-w, --warmup <seconds>', 'unmeasured seconds before each phase', '1')
    .option('-c, --concurrency <clients>', 'concurrent clients', '64')
    .option('--keep', 'keep the bench schema afterwards')
    .action(async (scenario: string, o: BenchOptions) => {
      const c = loadConfig('cli');
      const s: PhaseSettings = {
        concurrency: positiveInt(o.concurrency, 'concurrency'),
        durationMs: positiveInt(o.duration, 'duration') * 1000,
        warmupMs: Number(o.warmup) * 1000,
      };
      if (!['recorder', 'all'].includes(scenario)) throw new Error(`unknown scenario '${scenario}'`);
      const id = `${Date.now().toString(36)}${process.pid}`;
      const stack = await LocalStack.create({
        pgUrl: c.pgUrl,
        natsUrl: c.natsUrl,
        schema: `bench_${id}`,
        subjectPrefix: `bench${id}`,
      });
      const rows: Row[] = [];
      const report: Record<string, unknown> = { settings: s };
      try {
        out.progress('starting recorder...');
        const recorder = await stack.start('recorder');

        out.progress(`raw NATS request-reply, ${s.concurrency} in flight...`);
        const nats = await natsRequestReplyBaseline(c.natsUrl, s);
        out.progress('raw Postgres inserts...');
        const pgb = await pgInsertBaselines(c.pgUrl, stack.o.schema, s);
        report.baselines = {
          natsRequestReply: nats,
          pgSingleRowInsert: pgb.singleRow,
          pgBatchedInsert: pgb.batched,
          pgBatchRows: pgb.batchRows,
        };
        rows.push(rate(`raw NATS request-reply (${s.concurrency} in flight)`, nats, 'req/s'));
        rows.push(rate(`raw pg single-row INSERT+COMMIT (${pgb.singleRowConnections} conns)`, pgb.singleRow, 'rows/s'));
        rows.push(rate(`raw pg batched INSERT (${pgb.batchRows} rows/tx, 4 conns)`, pgb.batched, 'rows/s'));

        out.progress(`recorder append, ${s.concurrency} clients...`);
        const rec = await recorderAppendBench(c.natsUrl, stack.o.subjectPrefix, recorder.httpPort, s);
        report.recorder = { ...rec.appends, eventsPerCommit: rec.eventsPerCommit };
        report.ratios = {
          recorderVsPgSingleRow: ratio(rec.appends.perSecond, pgb.singleRow.perSecond),
          recorderVsPgBatched: ratio(rec.appends.perSecond, pgb.batched.perSecond),
          recorderVsNatsRequestReply: ratio(rec.appends.perSecond, nats.perSecond),
        };
        rows.push({
          ...rate(`recorder append over NATS (${s.concurrency} clients, 1 event each)`, rec.appends, 'events/s'),
          ratio: `${ratio(rec.appends.perSecond, pgb.singleRow.perSecond)}x pg single-row, ${ratio(rec.appends.perSecond, nats.perSecond)}x NATS req-rep`,
        });
        if (rec.eventsPerCommit !== null)
          rows.push({ metric: 'recorder events per transaction (mean)', value: String(rec.eventsPerCommit) });
        out.progressDone();
      } finally {
        if (o.keep) await stack.stopAll();
        else await stack.destroy();
      }
      out.result(report, () =>
        out.table(
          ['metric', 'throughput', 'p50 ms', 'p99 ms', 'errors', 'ratio'],
          rows.map((r) => [r.metric, r.value, r.p50, r.p99, r.errors, r.ratio]),
        ),
      );
    });
}

interface Row {
  metric: string;
  value: string;
  p50?: number;
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

function ratio(a: number, b: number): number {
  return b > 0 ? Math.round((a / b) * 100) / 100 : 0;
}

function positiveInt(v: string, name: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer`);
  return n;
}
