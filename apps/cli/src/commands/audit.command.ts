import type { Command } from 'commander';
import { readFileSync, writeFileSync } from 'node:fs';
import { Subjects, type SignalDeliveredV1, type SyscallRecordedV1 } from '#contracts';
import type { AuditFilter, AuditStats, RecordedEvent } from '#event-store';
import { ChainCheck, type ChainProblem } from '../audit/chain-check.js';
import {
  checkCheckpointSignature,
  KeyExistsError,
  loadKey,
  signCheckpoint,
  writeKeyPair,
  type Checkpoint,
} from '../audit/checkpoint.js';
import { ExportWriter, NOT_AUTHENTICATED, verifyExport } from '../audit/export-files.js';
import { hashBefore, remoteEvents, remoteHead } from '../audit/remote-log.js';
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
}

function withFilters(c: Command): Command {
  return c
    .option('--agent <agentId>', 'one agent')
    .option('--from <time>', 'recorded at or after (ISO 8601)')
    .option('--to <time>', 'recorded before (ISO 8601)')
    .option('--after <position>', 'positions after this one')
    .option('--to-position <position>', 'positions up to this one')
    .option('--type <type...>', 'event types (SyscallRecorded, SignalDelivered, ...)')
    .option('--syscall <name>', 'one syscall (SYS_WRITE, ...)')
    .option('--decision <d>', 'allowed | denied | shadow | failed')
    .option('--rule <name>', 'decided by this rule (e.g. no-secrets, role:reader, rate:writes)')
    .option('--policy-version <n>', 'decided under this policy version');
}

function toFilter(o: FilterOptions): AuditFilter {
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
  if (o.decision && !['allowed', 'denied', 'shadow', 'failed'].includes(o.decision))
    throw new Error('--decision must be allowed, denied, shadow or failed');
  return {
    ...(o.agent ? { agentId: o.agent } : {}),
    ...(o.from ? { from: time(o.from, 'from') } : {}),
    ...(o.to ? { to: time(o.to, 'to') } : {}),
    ...(o.after !== undefined ? { after: int(o.after, 'after') } : {}),
    ...(o.toPosition !== undefined ? { toPosition: int(o.toPosition, 'to-position') } : {}),
    ...(o.type ? { types: o.type } : {}),
    ...(o.syscall ? { syscall: o.syscall } : {}),
    ...(o.decision ? { decision: o.decision as AuditFilter['decision'] } : {}),
    ...(o.rule ? { rule: o.rule } : {}),
    ...(o.policyVersion !== undefined ? { policyVersion: int(o.policyVersion, 'policy-version') } : {}),
  };
}

/** One line of a table for people. */
function summary(e: RecordedEvent): (string | number)[] {
  const agent = e.streamId.startsWith('agent:') ? e.streamId.slice(6) : e.streamId;
  if (e.type === 'SyscallRecorded') {
    const d = e.data as unknown as SyscallRecordedV1;
    const dec = d.decision;
    const verdict = dec.mode === 'skipped' ? '-' : dec.shadow ? 'shadow' : dec.allowed ? 'allowed' : 'denied';
    const result = d.result?.success ? 'ok' : `${d.result?.errorCode}`;
    return [
      e.position,
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
    return [e.position, e.recordedAt, agent, `${d.signal} (${d.outcome})`, '', '', '', d.transition ?? '', d.source];
  }
  return [e.position, e.recordedAt, agent, e.type, '', '', '', '', ''];
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
  }[p.reason];
  return `first bad event at position ${p.position}: ${what}`;
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

export function registerAudit(program: Command, out: CliOutput): void {
  const audit = program.command('audit').description('query, follow, export and verify the event log (compliance)');

  withFilters(audit.command('query').description('events matching the filters, oldest first'))
    .option('--limit <n>', 'at most this many events', '100')
    .option('--jsonl', 'one JSON event per line')
    .action(async (o: FilterOptions & { limit: string; jsonl?: boolean }) => {
      const filter = toFilter(o);
      const limit = Number(o.limit);
      const events: RecordedEvent[] = [];
      await withSession(async (s) => {
        for await (const e of remoteEvents(s, filter, Math.min(limit, 2000))) {
          events.push(e);
          if (o.jsonl) process.stdout.write(JSON.stringify(e) + '\n');
          if (events.length >= limit) break;
        }
      });
      if (o.jsonl) return;
      out.result({ events, count: events.length }, () => {
        out.table(HEAD, events.map(summary));
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
        let after = filter.after ?? (await remoteHead(s)).position;
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
            for await (const e of remoteEvents(s, { ...filter, after }, 500)) {
              after = e.position;
              got += 1;
              seen += 1;
              if (out.json) process.stdout.write(JSON.stringify(e) + '\n');
              else process.stdout.write(summary(e).join('  ') + '\n');
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
    });
  });

  audit
    .command('verify')
    .description('recompute the hash chain here, from the events themselves, and report the first bad event')
    .option('--from <position>', 'first position', '1')
    .option('--to <position>', 'last position (default: the head)')
    .option('--checkpoint <file>', 'also prove the log up to this signed checkpoint is unchanged')
    .option('--pubkey <pem>', 'public key (file or PEM) for the checkpoint (or AGENTOS_CHECKPOINT_PUBKEY)')
    .action(async (o: { from: string; to?: string; checkpoint?: string; pubkey?: string }) => {
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
      const report = await withSession(async (s) => {
        const head = await remoteHead(s);
        const from = Math.max(1, Number(o.from));
        const to = o.to ? Number(o.to) : head.position;
        if (checkpoint && checkpoint.position > head.position) {
          return {
            ok: false,
            from,
            to,
            checked: 0,
            lastHash: '',
            problem: `the log is shorter (${head.position}) than the checkpoint (${checkpoint.position}): events were removed`,
          };
        }
        const chain = new ChainCheck(from, await hashBefore(s, from));
        const started = performance.now();
        let firstBad: ChainProblem | null = null;
        let checkpointMatches: boolean | undefined;
        for await (const e of remoteEvents(s, { after: from - 1, toPosition: to }, 2000)) {
          firstBad = chain.check(e);
          if (firstBad) break;
          if (checkpoint && e.position === checkpoint.position) checkpointMatches = e.hash === checkpoint.hash;
          if (!out.json) out.progressBar('verifying', chain.checked, to - from + 1, started);
        }
        out.progressDone();
        if (!firstBad && chain.nextPosition <= to) firstBad = { position: chain.nextPosition, reason: 'missing' };
        if (!firstBad && !o.to && chain.lastHash !== head.hash && to >= from) {
          firstBad = { position: to, reason: 'head_mismatch', expected: head.hash, actual: chain.lastHash };
        }
        const cp =
          checkpoint === undefined
            ? undefined
            : checkpointMatches === undefined
              ? 'not reached'
              : checkpointMatches
                ? 'matches'
                : 'does not match';
        return {
          ok: !firstBad && (cp === undefined || cp === 'matches'),
          from,
          to,
          checked: chain.checked,
          lastHash: chain.lastHash,
          ...(firstBad ? { firstBad, problem: describeProblem(firstBad) } : {}),
          ...(cp ? { checkpoint: cp, checkpointPosition: checkpoint!.position } : {}),
          seconds: Math.round((performance.now() - started) / 10) / 100,
        };
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
    .description('sign the chain head with the Ed25519 key from configuration; keep the file outside the system')
    .option('--key <pem>', 'private key (file or PEM); default AGENTOS_CHECKPOINT_KEY')
    .option('--out <file>', 'write here (default: stdout)')
    .action(async (o: { key?: string; out?: string }) => {
      const spec = o.key ?? process.env.AGENTOS_CHECKPOINT_KEY;
      if (!spec) throw new Error('--key (or AGENTOS_CHECKPOINT_KEY) is required');
      const key = loadKey(spec, 'private');
      const head = await withSession((s) => remoteHead(s));
      if (head.position === 0) throw new Error('the log is empty');
      const cp = signCheckpoint(head, key);
      const text = JSON.stringify(cp, null, 2) + '\n';
      if (o.out) {
        writeFileSync(o.out, text);
        out.result(
          cp,
          `checkpoint at position ${cp.position} (hash ${cp.hash.slice(0, 16)}…) signed by key ${cp.keyId}, written to ${o.out}`,
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
    .description('a contiguous range as events.jsonl and events.csv, with a manifest holding the chain end points')
    .requiredOption('--out <dir>', 'directory to write')
    .option('--from-position <n>', 'first position', '1')
    .option('--to-position <n>', 'last position (default: the head)')
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
          const head = await remoteHead(s);
          const filter: AuditFilter = {
            after: Number(o.fromPosition) - 1,
            toPosition: o.toPosition ? Number(o.toPosition) : head.position,
            ...(o.from ? { from: new Date(o.from).toISOString() } : {}),
            ...(o.to ? { to: new Date(o.to).toISOString() } : {}),
          };
          const w = new ExportWriter(o.out);
          const started = performance.now();
          let n = 0;
          const total = (filter.toPosition ?? 0) - (filter.after ?? 0);
          for await (const e of remoteEvents(s, filter, 2000)) {
            w.write(e);
            n += 1;
            if (!out.json) out.progressBar('exporting', n, total, started);
          }
          out.progressDone();
          return w.finish({ position: head.position, hash: head.hash }, key ? loadKey(key, 'private') : undefined);
        });
        out.result(
          manifest,
          `exported positions ${manifest.fromPosition}..${manifest.toPosition} (${manifest.count} events) to ${o.out}; chain ${manifest.startHash.slice(0, 12)}… → ${manifest.endHash.slice(0, 12)}…${manifest.signature ? `, signed by ${manifest.signature.keyId}` : ''}`,
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
        const what = `${r.count} events, positions ${r.fromPosition}..${r.toPosition}, chain intact`;
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
