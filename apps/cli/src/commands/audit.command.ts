import type { Command } from 'commander';
import { readFileSync, writeFileSync } from 'node:fs';
import { Subjects, formatPosition, type SignalDeliveredV1, type SyscallRecordedV1 } from '#contracts';
import {
  AUDIT_CURSOR_PATTERN,
  GENESIS_HASH,
  parseAuditCursor,
  type AuditLogQuery,
  type AuditStats,
  type LogHead,
  type RecordedEvent,
} from '#event-store';
import { ChainCheck, type ChainProblem } from '../audit/chain-check.js';
import {
  checkCheckpointSignature,
  checkpointHeads,
  KeyExistsError,
  loadKey,
  signCheckpoint,
  signLogCheckpoint,
  writeKeyPair,
  type Checkpoint,
  type CheckpointHead,
} from '../audit/checkpoint.js';
import { ExportWriter, NOT_AUTHENTICATED, verifyExport } from '../audit/export-files.js';
import {
  eventPosition,
  hashBefore,
  MergeCursor,
  remoteEvents,
  remoteLog,
  type RemoteLog,
} from '../audit/remote-log.js';
import type { NatsSession } from '../nats-session.js';
import { withSession } from '../nats-session.js';
import type { CliOutput } from '../output.js';

interface FilterOptions {
  agent?: string;
  from?: string;
  to?: string;
  after?: string;
  toPosition?: string;
  type?: string[];
  syscall?: string;
  decision?: string;
  rule?: string;
  policyVersion?: string;
  partition?: string;
}

function withFilters(c: Command): Command {
  return c
    .option('--agent <agentId>', 'one agent')
    .option('--from <time>', 'recorded at or after (ISO 8601)')
    .option('--to <time>', 'recorded before (ISO 8601)')
    .option('--after <position>', 'positions after this one (several partitions: in each, or a cursor 0:12,1:40,...)')
    .option('--to-position <position>', 'positions up to this one (several partitions: in each, or a cursor)')
    .option('--partition <p>', 'only this partition of the log (its positions)')
    .option('--type <type...>', 'event types (SyscallRecorded, SignalDelivered, ...)')
    .option('--syscall <name>', 'one syscall (SYS_WRITE, ...)')
    .option('--decision <d>', 'allowed | denied | shadow | failed')
    .option('--rule <name>', 'decided by this rule (e.g. no-secrets, role:reader, rate:writes)')
    .option('--policy-version <n>', 'decided under this policy version');
}

function toFilter(o: FilterOptions): AuditLogQuery {
  const int = (v: string | undefined, name: string) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer`);
    return n;
  };
  const time = (v: string | undefined, name: string) => {
    if (v === undefined) return undefined;
    const t = Date.parse(v);
    if (Number.isNaN(t)) throw new Error(`--${name} must be a time (ISO 8601), got '${v}'`);
    return new Date(t).toISOString();
  };
  const position = (v: string | undefined, name: string) =>
    v !== undefined && v.includes(':')
      ? AUDIT_CURSOR_PATTERN.test(v)
        ? v
        : (() => {
            throw new Error(`--${name} must be a position or a cursor like 0:12,1:40`);
          })()
      : int(v, name);
  if (o.decision && !['allowed', 'denied', 'shadow', 'failed'].includes(o.decision))
    throw new Error('--decision must be allowed, denied, shadow or failed');
  return {
    ...(o.agent ? { agentId: o.agent } : {}),
    ...(o.from ? { from: time(o.from, 'from') } : {}),
    ...(o.to ? { to: time(o.to, 'to') } : {}),
    ...(o.after !== undefined ? { after: position(o.after, 'after') } : {}),
    ...(o.toPosition !== undefined ? { toPosition: position(o.toPosition, 'to-position') } : {}),
    ...(o.partition !== undefined ? { partition: int(o.partition, 'partition') } : {}),
    ...(o.type ? { types: o.type } : {}),
    ...(o.syscall ? { syscall: o.syscall } : {}),
    ...(o.decision ? { decision: o.decision as AuditLogQuery['decision'] } : {}),
    ...(o.rule ? { rule: o.rule } : {}),
    ...(o.policyVersion !== undefined ? { policyVersion: int(o.policyVersion, 'policy-version') } : {}),
  };
}

/** One line of a table for people (positions as `3:42` when the log has several partitions). */
function summary(e: RecordedEvent, partitions = 1): (string | number)[] {
  const position = partitions > 1 ? eventPosition(e, partitions) : e.position;
  const agent = e.streamId.startsWith('agent:') ? e.streamId.slice(6) : e.streamId;
  if (e.type === 'SyscallRecorded') {
    const d = e.data as unknown as SyscallRecordedV1;
    const dec = d.decision;
    const verdict = dec.mode === 'skipped' ? '-' : dec.shadow ? 'shadow' : dec.allowed ? 'allowed' : 'denied';
    const result = d.result?.success ? 'ok' : `${d.result?.errorCode}`;
    return [
      position,
      e.recordedAt,
      agent,
      d.syscall,
      verdict,
      dec.rule ?? '',
      dec.policyVersion ?? '',
      result,
      d.requestId,
    ];
  }
  if (e.type === 'SignalDelivered') {
    const d = e.data as unknown as SignalDeliveredV1;
    return [position, e.recordedAt, agent, `${d.signal} (${d.outcome})`, '', '', '', d.transition ?? '', d.source];
  }
  return [position, e.recordedAt, agent, e.type, '', '', '', '', ''];
}
const HEAD = [
  'position',
  'recorded at',
  'agent',
  'syscall / event',
  'decision',
  'rule',
  'policy',
  'result',
  'request / source',
];

function describeProblem(p: ChainProblem): string {
  const what = {
    missing: 'an event is missing (deleted, or positions shifted)',
    prev_hash_mismatch: 'it does not follow the event before it (removed or reordered events)',
    hash_mismatch: 'its content is not what was hashed (altered)',
    head_mismatch: 'the log head names another last event',
    wrong_partition: `its stream belongs to partition ${p.actual ?? '?'} (moved between partitions)`,
  }[p.reason];
  return `${p.partition !== undefined ? `partition ${p.partition}: ` : ''}first bad event at position ${p.position}: ${what}`;
}

/** A reason for failing, on stderr, whatever the output format (stdout carries the result). */
function complain(message: string): void {
  process.stderr.write(`agentos: ${message}\n`);
}

function readCheckpoint(file: string): Checkpoint {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Checkpoint;
  } catch (err) {
    throw new Error(`cannot read the checkpoint ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Progress for people: on a terminal only (a pipe or a log file gets the result alone). */
function showProgress(out: CliOutput, label: string, done: number, total: number, started: number): void {
  if (!out.json && process.stderr.isTTY) out.progressBar(label, done, total, started);
}

type CheckpointCheck = 'matches' | 'does not match' | 'not reached';

/** One partition's chain, verified here from its events (the whole log when it has one partition). */
interface PartitionVerification {
  partition?: number;
  ok: boolean;
  from: number;
  to: number;
  checked: number;
  lastHash: string;
  firstBad?: ChainProblem;
  problem?: string;
  checkpoint?: CheckpointCheck;
  checkpointPosition?: number;
}

/**
 * Recomputes one partition's chain over `from..to` from the events the recorder sends (nothing it
 * says about itself is trusted), checking `cpHead` (a signed checkpoint's head of this partition)
 * on the way. `partition` is undefined for a log of one partition: the requests are as they always were.
 */
async function verifyRemotePartition(
  s: NatsSession,
  a: {
    partition?: number;
    partitions: number;
    from: number;
    to: number;
    explicitTo: boolean;
    head: LogHead;
    cpHead?: CheckpointHead;
    onEvent: () => void;
  },
): Promise<PartitionVerification> {
  const { from, to, head, cpHead } = a;
  const tag = a.partition !== undefined ? { partition: a.partition } : {};
  if (cpHead && cpHead.position > head.position) {
    return {
      ...tag,
      ok: false,
      from,
      to,
      checked: 0,
      lastHash: '',
      problem: `${a.partition !== undefined ? `partition ${a.partition}: ` : ''}the log is shorter (${head.position}) than the checkpoint (${cpHead.position}): events were removed`,
      ...(a.partition !== undefined
        ? { checkpoint: 'does not match' as const, checkpointPosition: cpHead.position }
        : {}),
    };
  }
  const chain = new ChainCheck(from, await hashBefore(s, from, a.partition), a.partition ?? 0, a.partitions);
  let firstBad: ChainProblem | null = null;
  let checkpointMatches: boolean | undefined;
  if (cpHead && cpHead.position === 0) checkpointMatches = cpHead.hash === GENESIS_HASH;
  else if (cpHead && cpHead.position === from - 1) checkpointMatches = chain.lastHash === cpHead.hash;
  for await (const e of remoteEvents(s, { ...tag, after: from - 1, toPosition: to }, 2000)) {
    firstBad = chain.check(e);
    if (firstBad) break;
    if (cpHead && e.position === cpHead.position) checkpointMatches = e.hash === cpHead.hash;
    a.onEvent();
  }
  if (!firstBad && chain.nextPosition <= to) firstBad = { ...tag, position: chain.nextPosition, reason: 'missing' };
  if (!firstBad && !a.explicitTo && chain.lastHash !== head.hash && to >= from) {
    firstBad = { ...tag, position: to, reason: 'head_mismatch', expected: head.hash, actual: chain.lastHash };
  }
  const cp: CheckpointCheck | undefined =
    cpHead === undefined
      ? undefined
      : checkpointMatches === undefined
        ? 'not reached'
        : checkpointMatches
          ? 'matches'
          : 'does not match';
  return {
    ...tag,
    ok: !firstBad && (cp === undefined || cp === 'matches'),
    from,
    to,
    checked: chain.checked,
    lastHash: chain.lastHash,
    ...(firstBad ? { firstBad, problem: describeProblem(firstBad) } : {}),
    ...(cp ? { checkpoint: cp, checkpointPosition: cpHead!.position } : {}),
  };
}

/** Verifies every partition of a log of several, and the signed checkpoint's head of each. */
async function verifyRemoteLog(
  s: NatsSession,
  out: CliOutput,
  log: RemoteLog,
  o: { from: number; to?: number; partition?: number; checkpoint?: Checkpoint },
) {
  const started = performance.now();
  const cp = o.checkpoint ? checkpointHeads(o.checkpoint) : undefined;
  const which = o.partition !== undefined ? [o.partition] : log.heads.map((_, p) => p);
  for (const p of which) if (p >= log.partitions) throw new Error(`the log has no partition ${p}`);
  const total = which.reduce((n, p) => n + Math.max(0, (o.to ?? log.heads[p].position) - o.from + 1), 0);
  let done = 0;
  const reports: PartitionVerification[] = [];
  const cpCovers = cp !== undefined && cp.partitions === log.partitions;
  for (const p of which) {
    reports.push(
      await verifyRemotePartition(s, {
        partition: p,
        partitions: log.partitions,
        from: o.from,
        to: o.to ?? log.heads[p].position,
        explicitTo: o.to !== undefined,
        head: log.heads[p],
        cpHead: cpCovers ? cp.heads[p] : undefined,
        onEvent: () => showProgress(out, 'verifying', ++done, total, started),
      }),
    );
  }
  if (!out.json && process.stderr.isTTY) out.progressDone();
  const problems = reports.filter((r) => r.problem).map((r) => r.problem!);
  let checkpoint: CheckpointCheck | undefined;
  let checkpointPartitions: number[] = [];
  if (cp) {
    if (!cpCovers) {
      checkpoint = 'does not match';
      problems.push(`the checkpoint covers ${cp.partitions} partition(s), the log has ${log.partitions}`);
    } else {
      checkpointPartitions = reports.filter((r) => r.checkpoint === 'does not match').map((r) => r.partition!);
      checkpoint = checkpointPartitions.length
        ? 'does not match'
        : reports.every((r) => r.checkpoint === 'matches')
          ? 'matches'
          : 'not reached';
      for (const r of reports)
        if (r.checkpoint === 'does not match' && !r.problem)
          problems.push(
            `partition ${r.partition}: the event at position ${r.checkpointPosition} does not have the hash of the signed checkpoint`,
          );
    }
  }
  const ok = reports.every((r) => !r.firstBad && !r.problem) && (checkpoint === undefined || checkpoint === 'matches');
  return {
    ok,
    checked: reports.reduce((n, r) => n + r.checked, 0),
    partitions: reports,
    ...(problems.length ? { problem: problems.join('; ') } : {}),
    ...(checkpoint ? { checkpoint, ...(checkpointPartitions.length ? { checkpointPartitions } : {}) } : {}),
    seconds: Math.round((performance.now() - started) / 10) / 100,
  };
}

export function registerAudit(program: Command, out: CliOutput): void {
  const audit = program.command('audit').description('query, follow, export and verify the event log (compliance)');

  withFilters(
    audit
      .command('query')
      .description(
        'events matching the filters, oldest first (several partitions: by recorded time, partition, position)',
      ),
  )
    .option('--limit <n>', 'at most this many events', '100')
    .option('--jsonl', 'one JSON event per line')
    .action(async (o: FilterOptions & { limit: string; jsonl?: boolean }) => {
      const filter = toFilter(o);
      const limit = Number(o.limit);
      const events: RecordedEvent[] = [];
      let partitions = 1;
      await withSession(async (s) => {
        if (!o.jsonl && !out.json) partitions = (await remoteLog(s)).partitions;
        for await (const e of remoteEvents(s, filter, Math.min(limit, 2000))) {
          events.push(e);
          if (o.jsonl) process.stdout.write(JSON.stringify(e) + '\n');
          if (events.length >= limit) break;
        }
      });
      if (o.jsonl) return;
      out.result({ events, count: events.length }, () => {
        out.table(
          HEAD,
          events.map((e) => summary(e, partitions)),
        );
        process.stdout.write(`${events.length} event(s)\n`);
      });
    });

  withFilters(audit.command('follow').description('print matching events as they are recorded (Ctrl-C to stop)'))
    .option('--max <n>', 'stop after this many events')
    .option('--for <seconds>', 'stop after this long')
    .action(async (o: FilterOptions & { max?: string; for?: string }) => {
      const filter = toFilter(o);
      const max = o.max ? Number(o.max) : Infinity;
      const until = o.for ? Date.now() + Number(o.for) * 1000 : Infinity;
      let seen = 0;
      await withSession(async (s) => {
        // from the heads now (every partition's), or from --after; each page goes on from the last event printed
        const log = await remoteLog(s);
        const single = log.partitions === 1 || filter.partition !== undefined;
        const cursor = new MergeCursor(
          single ? 1 : log.partitions,
          filter.after !== undefined
            ? typeof filter.after === 'number'
              ? filter.after
              : filter.after.split(',').reduce((at, entry) => {
                  const [p, pos] = entry.split(':').map(Number);
                  at[p] = pos;
                  return at;
                }, new Array<number>(log.partitions).fill(0))
            : single
              ? log.heads[filter.partition ?? 0].position
              : log.heads.map((h) => h.position),
        );
        let wake: (() => void) | null = null;
        const hint = s.nc.subscribe(s.subject(Subjects.eventsAppended), { callback: () => wake?.() });
        let stop = false;
        process.once('SIGINT', () => {
          stop = true;
          wake?.();
        });
        try {
          while (!stop && seen < max && Date.now() < until) {
            let got = 0;
            for await (const e of remoteEvents(s, { ...filter, after: cursor.after }, 500)) {
              cursor.advance(e);
              got += 1;
              seen += 1;
              if (out.json) process.stdout.write(JSON.stringify(e) + '\n');
              else process.stdout.write(summary(e, log.partitions).join('  ') + '\n');
              if (seen >= max) break;
            }
            if (got === 0) {
              await new Promise<void>((r) => {
                wake = r;
                setTimeout(r, Math.max(0, Math.min(1000, until - Date.now())));
              });
              wake = null;
            }
          }
        } finally {
          hint.unsubscribe();
        }
      });
    });

  withFilters(
    audit
      .command('stats')
      .description("totals by verdict and error code, top agents, average time (the seed's statistics)"),
  ).action(async (o: FilterOptions) => {
    const st = await withSession((s) => s.request<AuditStats>(Subjects.auditStats, toFilter(o)));
    out.result(st, () => {
      out.table(
        ['events', 'syscalls', 'allowed', 'denied', 'shadow', 'not decided', 'avg ms'],
        [
          [
            st.events,
            st.syscalls,
            st.byDecision.allowed,
            st.byDecision.denied,
            st.byDecision.shadow,
            st.byDecision.skipped,
            st.avgExecutionTimeMs ?? '',
          ],
        ],
      );
      if (Object.keys(st.byErrorCode).length) out.table(['error code', 'syscalls'], Object.entries(st.byErrorCode));
      if (st.topAgents.length)
        out.table(
          ['agent', 'syscalls'],
          st.topAgents.map((a) => [a.agentId, a.syscalls]),
        );
      if (st.partitions?.length)
        out.table(
          ['partition', 'events', 'syscalls', 'positions'],
          st.partitions.map((p) => [
            p.partition,
            p.events,
            p.syscalls,
            p.firstPosition === null ? '' : `${p.firstPosition}..${p.lastPosition}`,
          ]),
        );
    });
  });

  audit
    .command('verify')
    .description(
      'recompute the hash chain of every partition here, from the events themselves, and report the first bad event',
    )
    .option('--from <position>', 'first position (several partitions: in each)', '1')
    .option('--to <position>', 'last position (default: the head; several partitions: in each)')
    .option('--partition <p>', 'only this partition (several partitions)')
    .option('--checkpoint <file>', 'also prove the log up to this signed checkpoint is unchanged')
    .option('--pubkey <pem>', 'public key (file or PEM) for the checkpoint (or AGENTOS_CHECKPOINT_PUBKEY)')
    .action(async (o: { from: string; to?: string; partition?: string; checkpoint?: string; pubkey?: string }) => {
      let checkpoint: Checkpoint | undefined;
      if (o.checkpoint) {
        const pub = o.pubkey ?? process.env.AGENTOS_CHECKPOINT_PUBKEY;
        if (!pub)
          throw new Error('--pubkey (or AGENTOS_CHECKPOINT_PUBKEY) is needed to check the checkpoint signature');
        const publicKey = loadKey(pub, 'public');
        checkpoint = readCheckpoint(o.checkpoint);
        // an unsigned checkpoint, or one signed by another key, proves nothing: anyone can write one
        const sig = checkCheckpointSignature(checkpoint, publicKey);
        if (sig.status !== 'valid') {
          process.exitCode = 1;
          complain(`${o.checkpoint}: ${sig.reason}`);
          out.result(
            {
              ok: false,
              checkpoint: 'signature invalid',
              checkpointSignature: sig.status,
              expectedKeyId: sig.expectedKeyId,
              ...(sig.keyId ? { checkpointKeyId: sig.keyId } : {}),
              problem: sig.reason,
            },
            `FAILED: ${sig.reason}`,
          );
          return;
        }
      }
      const from = Math.max(1, Number(o.from));
      const partitioned = await withSession(async (s) => {
        const log = await remoteLog(s);
        if (log.partitions === 1) {
          if (o.partition !== undefined && Number(o.partition) !== 0) throw new Error('the log has one partition');
          return { log, report: null };
        }
        return {
          log,
          report: await verifyRemoteLog(s, out, log, {
            from,
            ...(o.to ? { to: Number(o.to) } : {}),
            ...(o.partition !== undefined ? { partition: Number(o.partition) } : {}),
            ...(checkpoint ? { checkpoint } : {}),
          }),
        };
      });
      if (partitioned.report) {
        const report = partitioned.report;
        if (!report.ok) {
          process.exitCode = 1;
          const why = [report.problem, report.checkpoint ? `checkpoint ${report.checkpoint}` : undefined];
          complain(`verification failed: ${why.filter(Boolean).join('; ')}`);
        }
        out.result(report, () => {
          if (report.ok) {
            process.stdout.write(
              `ok: ${report.partitions.length} partition(s), ${report.checked} events: every chain is unbroken and ends at its head\n`,
            );
            if (report.checkpoint)
              process.stdout.write(
                `ok: every partition has the head of the signed checkpoint (digest ${(checkpoint as { digest?: string }).digest?.slice(0, 16) ?? ''}…): nothing up to them was changed\n`,
              );
          } else {
            process.stdout.write(`FAILED: ${report.problem ?? `checkpoint ${report.checkpoint ?? ''}`}\n`);
          }
          out.table(
            ['partition', 'positions', 'events', 'last hash', 'checkpoint', 'result'],
            report.partitions.map((r) => [
              r.partition,
              `${r.from}..${r.to}`,
              r.checked,
              r.lastHash.slice(0, 16),
              r.checkpoint ?? '',
              r.firstBad
                ? `${r.firstBad.reason} at ${formatPosition(r.partition ?? 0, r.firstBad.position, partitioned.log.partitions)}`
                : r.problem
                  ? 'FAILED'
                  : 'ok',
            ]),
          );
        });
        return;
      }
      const report = await withSession(async (s) => {
        const head = partitioned.log.heads[0];
        const to = o.to ? Number(o.to) : head.position;
        const started = performance.now();
        const cpHead = checkpoint ? checkpointHeads(checkpoint) : undefined;
        if (cpHead && cpHead.partitions !== 1) {
          return {
            ok: false,
            from,
            to,
            checked: 0,
            lastHash: '',
            problem: `the checkpoint covers ${cpHead.partitions} partitions, the log has one`,
            checkpoint: 'does not match' as const,
          };
        }
        let checked = 0;
        const r = await verifyRemotePartition(s, {
          partitions: 1,
          from,
          to,
          explicitTo: Boolean(o.to),
          head,
          cpHead: cpHead?.heads[0],
          onEvent: () => showProgress(out, 'verifying', ++checked, to - from + 1, started),
        });
        if (!out.json && process.stderr.isTTY) out.progressDone();
        if (r.problem && !r.firstBad) return r; // shorter than the checkpoint
        return { ...r, seconds: Math.round((performance.now() - started) / 10) / 100 };
      });
      if (!report.ok) {
        process.exitCode = 1;
        const why = [report.problem, 'checkpoint' in report ? `checkpoint ${report.checkpoint}` : undefined];
        complain(`verification failed: ${why.filter(Boolean).join('; ')}`);
      }
      out.result(report, () => {
        if (report.ok) {
          process.stdout.write(
            `ok: positions ${report.from}..${report.to} (${report.checked} events) form an unbroken chain ending at ${report.lastHash}\n`,
          );
          if ('checkpoint' in report) {
            process.stdout.write(
              `ok: the event at position ${report.checkpointPosition} has the hash of the signed checkpoint: nothing up to it was changed\n`,
            );
          }
        } else {
          process.stdout.write(
            `FAILED: ${report.problem ?? ''}${'checkpoint' in report ? ` (checkpoint: ${report.checkpoint})` : ''}\n`,
          );
          if ('firstBad' in report && report.firstBad)
            out.table(
              ['position', 'reason', 'expected', 'found'],
              [
                [
                  report.firstBad.position,
                  report.firstBad.reason,
                  report.firstBad.expected ?? '',
                  report.firstBad.actual ?? '',
                ],
              ],
            );
        }
      });
    });

  audit
    .command('checkpoint')
    .description(
      'sign the chain head (every partition head, in one checkpoint) with the Ed25519 key from configuration; keep the file outside the system',
    )
    .option('--key <pem>', 'private key (file or PEM); default AGENTOS_CHECKPOINT_KEY')
    .option('--out <file>', 'write here (default: stdout)')
    .action(async (o: { key?: string; out?: string }) => {
      const spec = o.key ?? process.env.AGENTOS_CHECKPOINT_KEY;
      if (!spec) throw new Error('--key (or AGENTOS_CHECKPOINT_KEY) is required');
      const key = loadKey(spec, 'private');
      const log = await withSession((s) => remoteLog(s));
      if (log.heads.every((h) => h.position === 0)) throw new Error('the log is empty');
      const cp = log.partitions === 1 ? signCheckpoint(log.heads[0], key) : signLogCheckpoint(log.heads, key);
      const text = JSON.stringify(cp, null, 2) + '\n';
      if (o.out) {
        writeFileSync(o.out, text);
        out.result(
          cp,
          cp.format === 'agentos-checkpoint/v1'
            ? `checkpoint at position ${cp.position} (hash ${cp.hash.slice(0, 16)}…) signed by key ${cp.keyId}, written to ${o.out}`
            : `checkpoint of ${cp.partitions} partitions at ${cp.heads.map((h) => `${h.partition}:${h.position}`).join(', ')} ` +
                `(digest ${cp.digest.slice(0, 16)}…) signed by key ${cp.keyId}, written to ${o.out}`,
        );
      } else process.stdout.write(text);
    });

  audit
    .command('keygen')
    .description('create an Ed25519 key pair for checkpoints and signed exports')
    .requiredOption('--out <dir>', 'directory for checkpoint-key.pem (private) and checkpoint-key.pub.pem')
    .option(
      '--force',
      'replace an existing key pair (what was signed with the old key no longer verifies with the new one)',
    )
    .action((o: { out: string; force?: boolean }) => {
      let written: ReturnType<typeof writeKeyPair>;
      try {
        written = writeKeyPair(o.out, Boolean(o.force));
      } catch (err) {
        if (!(err instanceof KeyExistsError)) throw err;
        process.exitCode = 1;
        complain(err.message);
        if (out.json) out.result({ ok: false, existing: err.existing, error: { message: err.message } }, '');
        return;
      }
      const { privateKey, publicKey, replaced } = written;
      out.result(
        { ok: true, privateKey, publicKey, ...(replaced.length ? { replaced } : {}) },
        `wrote ${privateKey} (keep it secret) and ${publicKey}` +
          (replaced.length
            ? `; replaced the previous pair: checkpoints and exports signed with the old key no longer verify with ${publicKey}`
            : ''),
      );
    });

  audit
    .command('export')
    .description(
      'a contiguous range (of each partition) as events.jsonl and events.csv, with a manifest holding the chain end points',
    )
    .requiredOption('--out <dir>', 'directory to write')
    .option('--from-position <n>', 'first position (several partitions: in each)', '1')
    .option(
      '--to-position <n>',
      'last position (default: the head; several partitions: in each, or a cursor 0:12,1:40,... of each one)',
    )
    .option('--from <time>', 'first event recorded at or after this time')
    .option('--to <time>', 'last event recorded before this time')
    .option('--key <pem>', 'sign the manifest with this private key (file or PEM; or AGENTOS_CHECKPOINT_KEY)')
    .action(
      async (o: {
        out: string;
        fromPosition: string;
        toPosition?: string;
        from?: string;
        to?: string;
        key?: string;
      }) => {
        const key = o.key ?? process.env.AGENTOS_CHECKPOINT_KEY;
        const manifest = await withSession(async (s) => {
          const log = await remoteLog(s);
          const after = Number(o.fromPosition) - 1;
          // --to-position: a position (in every partition), or a cursor of per-partition bounds (e.g. a checkpoint's heads)
          const named =
            o.toPosition?.includes(':') === true
              ? parseAuditCursor(o.toPosition, log.partitions, -1)
              : log.heads.map(() => (o.toPosition ? Number(o.toPosition) : -1));
          const bounds = log.heads.map((h, p) => (named[p] >= 0 ? named[p] : h.position));
          const filter: AuditLogQuery = {
            after,
            toPosition: log.partitions === 1 ? bounds[0] : bounds.map((b, p) => `${p}:${b}`).join(','),
            ...(o.from ? { from: new Date(o.from).toISOString() } : {}),
            ...(o.to ? { to: new Date(o.to).toISOString() } : {}),
          };
          const w = new ExportWriter(o.out, log.partitions);
          const started = performance.now();
          let n = 0;
          const total = bounds.reduce((t, b) => t + Math.max(0, b - after), 0);
          for await (const e of remoteEvents(s, filter, 2000)) {
            w.write(e);
            n += 1;
            showProgress(out, 'exporting', n, total, started);
          }
          if (!out.json && process.stderr.isTTY) out.progressDone();
          const signer = key ? loadKey(key, 'private') : undefined;
          return log.partitions === 1
            ? w.finish({ position: log.heads[0].position, hash: log.heads[0].hash }, signer)
            : w.finishPartitioned(log.heads, signer);
        });
        const signed = manifest.signature ? `, signed by ${manifest.signature.keyId}` : '';
        out.result(
          manifest,
          manifest.format === 'agentos-export/v1'
            ? `exported positions ${manifest.fromPosition}..${manifest.toPosition} (${manifest.count} events) to ${o.out}; chain ${manifest.startHash.slice(0, 12)}… → ${manifest.endHash.slice(0, 12)}…${signed}`
            : `exported ${manifest.count} events of ${manifest.partitions} partitions (${manifest.ranges
                .map((r) => (r.count ? `${r.partition}:${r.fromPosition}..${r.toPosition}` : `${r.partition}: none`))
                .join(', ')}) to ${o.out}${signed}`,
        );
      },
    );

  audit
    .command('verify-export')
    .description('verify an export offline: digests, the chain between its end points, signature, checkpoint')
    .argument('<dir>', 'export directory')
    .option(
      '--pubkey <pem>',
      'public key (file or PEM) the manifest must be signed by (or AGENTOS_CHECKPOINT_PUBKEY); without it, authenticity is not checked',
    )
    .option('--checkpoint <file>', 'a signed checkpoint inside the exported range (needs the public key)')
    .action(async (dir: string, o: { pubkey?: string; checkpoint?: string }) => {
      const pub = o.pubkey ?? process.env.AGENTOS_CHECKPOINT_PUBKEY;
      if (o.checkpoint && !pub)
        throw new Error('--pubkey (or AGENTOS_CHECKPOINT_PUBKEY) is needed to check the checkpoint signature');
      const r = await verifyExport(
        dir,
        pub ? loadKey(pub, 'public') : undefined,
        o.checkpoint ? readCheckpoint(o.checkpoint) : undefined,
      );
      const reasons = [...(r.firstBad ? [describeProblem(r.firstBad)] : []), ...r.problems];
      if (!r.ok) {
        process.exitCode = 1;
        complain(`the export in ${dir} failed verification: ${reasons.join('; ')}`);
      } else if (!r.authenticated) complain(`warning: ${NOT_AUTHENTICATED}`);
      out.result(r, () => {
        const what =
          r.partitions === undefined
            ? `${r.count} events, positions ${r.fromPosition}..${r.toPosition}, chain intact`
            : `${r.count} events of ${r.partitions} partitions, every chain intact between the manifest's end points`;
        process.stdout.write(
          !r.ok
            ? `FAILED: ${reasons.join('; ')}\n`
            : r.authenticated
              ? `ok: ${what}; signature valid${r.checkpoint ? `; checkpoint ${r.checkpoint}` : ''}\n`
              : `NOT AUTHENTICATED: ${what}, but the signature was not checked (no public key given): ` +
                `this does not show who produced the export\n`,
        );
      });
    });
}
