import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { Subjects } from '#contracts';
import {
  POLICY_JSON_SCHEMA,
  parsePolicyDocument,
  policyContentHash,
  type PolicyDiff,
  type PolicyError,
} from '#policy-engine';
import { withSession } from '../nats-session.js';
import type { CliOutput } from '../output.js';

function readDocument(file: string, format?: string): { text: string; format: 'yaml' | 'json' } {
  const text = file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8');
  const f = (format ?? (extname(file).toLowerCase() === '.json' ? 'json' : 'yaml')) as 'yaml' | 'json';
  if (f !== 'yaml' && f !== 'json') throw new Error('--format must be yaml or json');
  return { text, format: f };
}

function printErrors(out: CliOutput, file: string, errors: PolicyError[]): void {
  out.table(
    ['where', 'field', 'problem'],
    errors.map((e) => [
      e.line ? `${file}:${e.line}${e.column ? `:${e.column}` : ''}` : file,
      e.field || '(document)',
      e.message,
    ]),
  );
}

export function registerPolicy(program: Command, out: CliOutput): void {
  const policy = program.command('policy').description('validate, apply, inspect and roll back policy documents');

  policy
    .command('validate')
    .description('check a document against the schema and the rules (offline; nothing is applied)')
    .argument('<file>', 'YAML or JSON document, - for stdin')
    .option('--format <format>', 'yaml or json (default: by file extension)')
    .action((file: string, o: { format?: string }) => {
      const { text, format } = readDocument(file, o.format);
      const r = parsePolicyDocument(text, format);
      if (!r.ok) {
        out.result({ valid: false, errors: r.errors }, () => {
          process.stdout.write(`${file}: ${r.errors.length} problem(s)\n`);
          printErrors(out, file, r.errors);
        });
        process.exitCode = 2;
        return;
      }
      const hash = policyContentHash(r.document);
      out.result(
        { valid: true, name: r.document.name, hash, ...(r.importedFrom ? { importedFrom: r.importedFrom } : {}) },
        `${file}: valid policy '${r.document.name}' (content hash ${hash.slice(0, 16)})${r.importedFrom ? ', imported from the seed format' : ''}`,
      );
    });

  policy
    .command('apply')
    .description('make a document the active policy on every kernel (a new version, or an earlier one again)')
    .argument('<file>', 'YAML or JSON document, - for stdin')
    .option('--format <format>', 'yaml or json (default: by file extension)')
    .option('--reason <text>', 'why, for the record', '')
    .option('--by <name>', 'who applies it', process.env.USER ?? 'operator')
    .action(async (file: string, o: { format?: string; reason: string; by: string }) => {
      const { text, format } = readDocument(file, o.format);
      const local = parsePolicyDocument(text, format);
      if (!local.ok) {
        out.result({ applied: false, errors: local.errors }, () => printErrors(out, file, local.errors));
        process.exitCode = 2;
        return;
      }
      const r = await withSession((s) =>
        s.request<{ status: string; version: number; hash: string; activation: number; position: string | null }>(
          Subjects.policyApply,
          {
            document: text,
            format,
            appliedBy: o.by,
            reason: o.reason,
          },
        ),
      );
      out.result(
        r,
        r.status === 'unchanged'
          ? `version ${r.version} is already active (content hash ${r.hash.slice(0, 16)})`
          : `${r.status} version ${r.version} (content hash ${r.hash.slice(0, 16)}), recorded at position ${r.position}`,
      );
    });

  policy
    .command('list')
    .description('every version, which one is active')
    .action(async () => {
      const r = await withSession((s) =>
        s.request<{
          activeVersion: number | null;
          versions: {
            version: number;
            hash: string;
            name: string;
            appliedAt: string;
            appliedBy: string;
            reason: string;
            active: boolean;
          }[];
        }>(Subjects.policyList, {}),
      );
      out.result(r, () => {
        if (!r.versions.length)
          return void process.stdout.write('no policy has been applied (the kernel is permissive or fail-closed)\n');
        out.table(
          ['version', 'active', 'name', 'hash', 'applied at', 'by', 'reason'],
          r.versions.map((v) => [
            v.version,
            v.active ? '*' : '',
            v.name,
            v.hash.slice(0, 16),
            v.appliedAt,
            v.appliedBy,
            v.reason,
          ]),
        );
      });
    });

  policy
    .command('show')
    .description('a version (default: the active one): its source as applied')
    .argument('[version]', 'version number')
    .action(async (version?: string) => {
      const r = await withSession((s) =>
        s.request<{ version: number; hash: string; name: string; source: string; active: boolean; appliedAt: string }>(
          Subjects.policyShow,
          {
            ...(version ? { version: Number(version) } : {}),
          },
        ),
      );
      out.result(r, () => {
        process.stdout.write(
          `# version ${r.version}${r.active ? ' (active)' : ''}, '${r.name}', hash ${r.hash}, applied ${r.appliedAt}\n`,
        );
        process.stdout.write(r.source.endsWith('\n') ? r.source : `${r.source}\n`);
      });
    });

  policy
    .command('diff')
    .description('what changed between two versions (default to: the active one)')
    .argument('<from>', 'version')
    .argument('[to]', 'version')
    .action(async (from: string, to?: string) => {
      const d = await withSession((s) =>
        s.request<PolicyDiff & { from: number; to: number }>(Subjects.policyDiff, {
          from: Number(from),
          ...(to ? { to: Number(to) } : {}),
        }),
      );
      out.result(d, () => {
        if (d.identical) return void process.stdout.write(`versions ${d.from} and ${d.to} mean the same\n`);
        const rows: string[][] = [];
        if (d.name) rows.push(['name', 'changed', `${d.name.from} → ${d.name.to}`]);
        if (d.defaults)
          rows.push(['defaults', 'changed', `${JSON.stringify(d.defaults.from)} → ${JSON.stringify(d.defaults.to)}`]);
        for (const kind of ['roles', 'rules', 'rateLimits'] as const) {
          for (const a of d[kind].added) rows.push([kind, 'added', a.name]);
          for (const r of d[kind].removed) rows.push([kind, 'removed', r]);
          for (const c of d[kind].changed) rows.push([kind, 'changed', c.name]);
        }
        for (const c of d.argumentChecks) rows.push(['argumentChecks', 'changed', c.name]);
        process.stdout.write(`version ${d.from} → ${d.to}\n`);
        out.table(['section', 'change', 'what'], rows);
      });
    });

  policy
    .command('rollback')
    .description('make an earlier version active again')
    .argument('<version>', 'version number')
    .option('--reason <text>', 'why, for the record', '')
    .option('--by <name>', 'who rolls back', process.env.USER ?? 'operator')
    .action(async (version: string, o: { reason: string; by: string }) => {
      const r = await withSession((s) =>
        s.request<{ status: string; version: number; position: string | null }>(Subjects.policyRollback, {
          version: Number(version),
          appliedBy: o.by,
          reason: o.reason,
        }),
      );
      out.result(
        r,
        r.status === 'unchanged'
          ? `version ${r.version} is already active`
          : `version ${r.version} is active again (position ${r.position})`,
      );
    });

  policy
    .command('schema')
    .description('print the published JSON Schema of policy documents')
    .action(() => {
      process.stdout.write(JSON.stringify(POLICY_JSON_SCHEMA, null, 2) + '\n');
    });
}
