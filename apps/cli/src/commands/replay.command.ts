import type { Command } from 'commander';
import { withSession } from '../nats-session.js';
import type { CliOutput } from '../output.js';
import { agentAt, diffAgent, type AgentAt, type LogPoint } from '../replay/agent-at.js';

/**
 * `42` (a position in the agent's partition), `3:42` (a position in partition 3; in another
 * partition than the agent's, its place in the merged order of the log), or an ISO 8601 time.
 */
function point(v: string): LogPoint {
  if (/^\d+$/.test(v)) return { position: Number(v) };
  const m = /^(\d{1,3}):(\d+)$/.exec(v);
  if (m) return { partition: Number(m[1]), position: Number(m[2]) };
  if (Number.isNaN(Date.parse(v))) throw new Error(`'${v}' is neither a position nor a time (ISO 8601)`);
  return { time: new Date(v).toISOString() };
}

function print(out: CliOutput, a: AgentAt): void {
  process.stdout.write(
    `agent ${a.agentId} (role ${a.role}) at position ${a.partition !== undefined ? `${a.partition}:` : ''}${a.position} (${a.recordedAt}): ${a.state}` +
      `${a.terminatedBy ? ` by ${a.terminatedBy}` : ''}${a.exitCode !== null ? `, exit code ${a.exitCode}` : ''}, stream version ${a.version}\n`,
  );
  process.stdout.write(
    `policy in force: ${a.policyInForce ? `version ${a.policyInForce.version} '${a.policyInForce.name}' (${a.policyInForce.hash.slice(0, 16)})` : 'none (permissive)'}; ` +
      `newest version that decided for it: ${a.lastPolicyVersion ?? 'none'}\n`,
  );
  out.table(
    ['blocked signals', 'pending signals', 'dispositions'],
    [
      [
        a.blockedSignals.join(' ') || '-',
        a.pendingSignals.map((p) => p.signal).join(' ') || '-',
        JSON.stringify(a.dispositions),
      ],
    ],
  );
  out.table(Object.keys(a.counters), [Object.values(a.counters)]);
  if (a.files.length)
    out.table(
      ['file', 'bytes', 'content hash', 'modified'],
      a.files.map((f) => [f.path, f.size, f.contentHash, f.modified]),
    );
  else process.stdout.write('no files\n');
  if (a.descriptors.length)
    out.table(
      ['fd', 'path', 'mode'],
      a.descriptors.map((d) => [d.fd, d.path, d.mode]),
    );
  process.stdout.write(`vfs digest ${a.vfsDigest}\n`);
}

export function registerReplay(program: Command, out: CliOutput): void {
  program
    .command('replay')
    .description("time travel: rebuild an agent's exact state at a position or time from the log")
    .requiredOption('--agent <agentId>', 'the agent')
    .requiredOption('--at <position|time>', 'a log position (p:n with several partitions) or an ISO 8601 time')
    .action(async (o: { agent: string; at: string }) => {
      const a = await withSession((s) => agentAt(s, o.agent, point(o.at)));
      out.result(a, () => print(out, a));
    });

  program
    .command('replay-diff')
    .description("what changed in an agent's state between two points of the log")
    .requiredOption('--agent <agentId>', 'the agent')
    .requiredOption('--from <position|time>', 'the earlier point')
    .requiredOption('--to <position|time>', 'the later point')
    .action(async (o: { agent: string; from: string; to: string }) => {
      const d = await withSession(async (s) =>
        diffAgent(await agentAt(s, o.agent, point(o.from)), await agentAt(s, o.agent, point(o.to))),
      );
      out.result(d, () => {
        process.stdout.write(`agent ${o.agent}: position ${d.from} → ${d.to}, ${d.changes.length} change(s)\n`);
        if (d.changes.length)
          out.table(
            ['what', 'before', 'after'],
            d.changes.map((c) => [c.what, JSON.stringify(c.from), JSON.stringify(c.to)]),
          );
      });
    });
}
