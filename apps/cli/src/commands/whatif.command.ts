import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { formatPosition } from '#contracts';
import { AUDIT_CURSOR_PATTERN } from '#event-store';
import { compilePolicy, parsePolicyDocument } from '#policy-engine';
import { remoteEvents, remoteLog } from '../audit/remote-log.js';
import { withSession } from '../nats-session.js';
import type { CliOutput } from '../output.js';
import { whatIf } from '../whatif/what-if.js';

export function registerWhatIf(program: Command, out: CliOutput): void {
  program
    .command('whatif')
    .description(
      're-decide recorded syscalls under a candidate policy and report what would change (the log is not touched)',
    )
    .requiredOption('--policy <file>', 'candidate policy (YAML or JSON)')
    .option('--agent <agentId>', 'only this agent')
    .option('--from <time>', 'syscalls recorded at or after (ISO 8601)')
    .option('--to <time>', 'syscalls recorded before')
    .option(
      '--after <position>',
      'syscalls after this position (several partitions: in each, or a cursor 0:12,1:40,...)',
    )
    .option('--to-position <position>', 'syscalls up to this position (several partitions: in each, or a cursor)')
    .option('--list <n>', 'list at most this many changed decisions', '20')
    .action(
      async (o: {
        policy: string;
        agent?: string;
        from?: string;
        to?: string;
        after?: string;
        toPosition?: string;
        list: string;
      }) => {
        const parsed = parsePolicyDocument(
          readFileSync(o.policy, 'utf8'),
          extname(o.policy) === '.json' ? 'json' : 'yaml',
        );
        if (!parsed.ok)
          throw new Error(
            `the candidate policy is invalid: ${parsed.errors.map((e) => `${e.line ? `line ${e.line} ` : ''}${e.field}: ${e.message}`).join('; ')}`,
          );
        const position = (v: string, name: string): number | string => {
          if (AUDIT_CURSOR_PATTERN.test(v) && v.includes(':')) return v;
          if (!/^\d+$/.test(v)) throw new Error(`--${name} must be a position or a cursor like 0:12,1:40`);
          return Number(v);
        };
        const range = {
          ...(o.from ? { from: new Date(o.from).toISOString() } : {}),
          ...(o.to ? { to: new Date(o.to).toISOString() } : {}),
          ...(o.after ? { after: position(o.after, 'after') } : {}),
          ...(o.toPosition ? { toPosition: position(o.toPosition, 'to-position') } : {}),
        };
        let partitions = 1;
        const report = await withSession(async (s) => {
          partitions = (await remoteLog(s)).partitions;
          // the whole history up to the range's end: each agent's state before a syscall matters (role, rate usage)
          return whatIf(
            remoteEvents(s, {
              ...(o.agent ? { agentId: o.agent } : {}),
              ...(range.toPosition ? { toPosition: range.toPosition } : {}),
              ...(range.to ? { to: range.to } : {}),
            }),
            compilePolicy(parsed.document),
            range,
            Number(o.list),
            partitions,
          );
        });
        out.result(report, () => {
          process.stdout.write(
            `${report.evaluated} recorded decision(s) re-evaluated: ${report.unchanged} unchanged, ${report.changed} would change\n`,
          );
          out.table(Object.keys(report.byKind), [Object.values(report.byKind)]);
          if (report.changes.length) {
            out.table(
              ['position', 'agent', 'syscall', 'change', 'recorded rule', 'candidate rule', 'candidate reason'],
              report.changes.map((c) => [
                formatPosition(c.partition ?? 0, c.position, partitions),
                c.agentId,
                c.syscall,
                c.kind,
                c.recorded.rule ?? '',
                c.candidate.rule ?? '',
                c.candidate.reason ?? '',
              ]),
            );
          }
        });
      },
    );
}
