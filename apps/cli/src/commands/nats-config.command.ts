import type { Command } from 'commander';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { natsPermissionsConfig } from '../ops/nats-permissions.js';
import type { CliOutput } from '../output.js';

const secret = () => randomBytes(18).toString('base64url');

export function registerNatsConfig(program: Command, out: CliOutput): void {
  program
    .command('nats-config')
    .description('generate a nats-server account config: each agent may publish only on its own syscall subject')
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
      const services = { user: 'agentos-services', password: secret() };
      const operators = { user: 'agentos-operator', password: secret() };
      writeFileSync(o.out, natsPermissionsConfig({ subjectPrefix: o.prefix, services, operators, agents, tools }));
      const creds = { services, operators, agents, tools };
      if (o.credentials) writeFileSync(o.credentials, JSON.stringify(creds, null, 2), { mode: 0o600 });
      out.result(
        { config: o.out, credentials: o.credentials ?? null, users: 2 + agents.length + tools.length },
        `wrote ${o.out} (${2 + agents.length + tools.length} users)${o.credentials ? ` and ${o.credentials}` : ''}`,
      );
    });
}
