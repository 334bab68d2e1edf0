import type { Command } from 'commander';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { natsPermissionsConfig } from '../ops/nats-permissions.js';
import type { CliOutput } from '../output.js';

const secret = () => randomBytes(18).toString('base64url');

export function registerNatsConfig(program: Command, out: CliOutput): void {
  program
    .command('nats-config')
    .description(
      'generate a static nats-server config with one user per service, operator, agent and tool ' +
        '(for fleets that add agents at run time, use `agentos nats-auth`)',
    )
    .option('--agents <ids>', 'comma-separated agent ids', '')
    .option('--tools <names>', 'comma-separated tool names', '')
    .option('--prefix <prefix>', 'subject prefix', process.env.AGENTOS_SUBJECT_PREFIX ?? 'agentos')
    .requiredOption('--out <file>', 'where to write the nats-server config')
    .option('--credentials <file>', 'where to write the generated users and passwords (JSON)')
    .action((o: { agents: string; tools: string; prefix: string; out: string; credentials?: string }) => {
      const agents = o.agents
        .split(',')
        .filter(Boolean)
        .map((agentId) => ({ agentId, user: `agent-${agentId}`, password: secret() }));
      const tools = o.tools
        .split(',')
        .filter(Boolean)
        .map((tool) => ({ tool, user: `tool-${tool}`, password: secret() }));
      const user = (name: string) => ({ user: name, password: secret() });
      const services = {
        kernel: user('agentos-kernel'),
        policy: user('agentos-policy'),
        recorder: user('agentos-recorder'),
        vfs: user('agentos-vfs'),
      };
      const operators = user('agentos-operator');
      const mcp = user('agentos-mcp');
      writeFileSync(o.out, natsPermissionsConfig({ subjectPrefix: o.prefix, services, operators, mcp, agents, tools }));
      const creds = { services, operators, mcp, agents, tools };
      if (o.credentials) writeFileSync(o.credentials, JSON.stringify(creds, null, 2), { mode: 0o600 });
      const users = 6 + agents.length + tools.length;
      out.result(
        { config: o.out, credentials: o.credentials ?? null, users },
        `wrote ${o.out} (${users} users)${o.credentials ? ` and ${o.credentials}` : ''}`,
      );
    });
}
