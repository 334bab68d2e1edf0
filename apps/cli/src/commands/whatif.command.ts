import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { compilePolicy, parsePolicyDocument } from '#policy-engine';
import { remoteEvents } from '../audit/remote-log.js';
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
    .option('--after <position>', 'syscalls after this position')
    .option('--to-position <position>', 'syscalls up to this position')
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
        const range = {
          ...(o.from ? { from: new Date(o.from).toISOString() } : {}),
          ...(o.to ? { to: new Date(o.to).toISOString() } : {}),
          ...(o.after ? { after: Number(o.after) } : {}),
          ...(o.toPosition ? { toPosition: Number(o.toPosition) } : {}),
        };
        const report = await withSession((s) =>
          // the whole history up to the range's end: each agent's state before a syscall matters (role, rate usage)
          whatIf(
            remoteEvents(s, {
              ...(o.agent ? { agentId: o.agent } : {}),
              ...(range.toPosition ? { toPosition: range.toPosition } : {}),
              ...(range.to ? { to: range.to } : {}),
            }),
            compilePolicy(parsed.document),
            range,
            Number(o.list),
          ),
        );
        out.result(report, () => {
          process.stdout.write(
            `${report.evaluated} recorded decision(s) re-evaluated: ${report.unchanged} unchanged, ${report.changed} would change\n`,
          );
          out.table(Object.keys(report.byKind), [Object.values(report.byKind)]);
          if (report.changes.length) {
            out.table(
              ['position', 'agent', 'syscall', 'change', 'recorded rule', 'candidate rule', 'candidate reason'],
              report.changes.map((c) => [
                c.position,
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
