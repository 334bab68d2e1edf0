import type { Command } from 'commander';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  authorityFromJson,
  authorityToJson,
  createAuthority,
  mintSystemUser,
  mintUser,
  natsServerConfig,
  SERVICE_ROLES,
  type NatsAuthority,
  type NatsRole,
} from '#nats-auth';
import type { CliOutput } from '../output.js';

// Seeds and creds are secrets: only their owner may read them (chmod too: `mode` only applies to new files).
const writeSecret = (file: string, text: string) => {
  writeFileSync(file, text, { mode: 0o600 });
  chmodSync(file, 0o600);
};

const loadAuthority = (file: string): NatsAuthority => authorityFromJson(readFileSync(file, 'utf8'));

const expiresIn = (s?: string): number | undefined => {
  if (s === undefined) return undefined;
  const n = Number(s);
  if (!Number.isInteger(n) || n <= 0) throw new Error('--expires must be a positive number of seconds');
  return n;
};

/**
 * `agentos nats-auth`: per-user NATS credentials under an operator (decentralised auth). `init`
 * creates the authority and the server config once; `agent` and `tool` mint credentials at any
 * time afterwards, with no change to the running nats-server.
 */
export function registerNatsAuth(program: Command, out: CliOutput): void {
  const cmd = program
    .command('nats-auth')
    .description('operator-mode NATS credentials: one user per agent, tool and service, revocable without a restart');

  cmd
    .command('init')
    .description('create the authority (operator, accounts, keys), the nats-server config and the services’ creds')
    .requiredOption('--out <dir>', 'directory to write authority.json, nats-server.conf and <role>.creds into')
    .option('--prefix <prefix>', 'subject prefix', process.env.AGENTOS_SUBJECT_PREFIX ?? 'agentos')
    .option('--resolver-dir <dir>', 'where nats-server keeps account JWTs (default <out>/jwt)')
    .option('--port <port>', 'nats-server client port written into the config')
    .option('--monitor-port <port>', 'nats-server HTTP monitoring port written into the config (health checks)')
    .option('--host <host>', 'address nats-server listens on, written into the config')
    .option('--force', 'overwrite an existing authority.json (every credential minted from it stops working)')
    .option('--if-missing', 'do nothing (exit 0) when the authority already exists (for init containers)')
    .action(
      async (o: {
        out: string;
        prefix: string;
        resolverDir?: string;
        port?: string;
        monitorPort?: string;
        host?: string;
        force?: boolean;
        ifMissing?: boolean;
      }) => {
        const dir = path.resolve(o.out);
        const authorityFile = path.join(dir, 'authority.json');
        if (existsSync(authorityFile) && o.ifMissing) {
          out.result({ authority: authorityFile, created: false }, `${authorityFile} exists; nothing to do`);
          return;
        }
        if (existsSync(authorityFile) && !o.force) {
          throw new Error(`${authorityFile} exists; refusing to replace the authority (use --force)`);
        }
        mkdirSync(dir, { recursive: true });
        const authority = await createAuthority({ subjectPrefix: o.prefix });
        writeSecret(authorityFile, authorityToJson(authority));
        const resolverDir = path.resolve(o.resolverDir ?? path.join(dir, 'jwt'));
        const port = o.port === undefined ? undefined : Number(o.port);
        const configFile = path.join(dir, 'nats-server.conf');
        const extra = o.monitorPort === undefined ? [] : [`http_port: ${Number(o.monitorPort)}`];
        writeFileSync(configFile, natsServerConfig(authority, { resolverDir, port, host: o.host, extra }));
        const creds: Record<string, string> = {};
        for (const role of SERVICE_ROLES) {
          creds[role] = path.join(dir, `${role}.creds`);
          writeSecret(creds[role], (await mintUser(authority, { role })).creds);
        }
        // The system user pushes account JWTs (revocations); whoever revokes agents needs it.
        creds.sys = path.join(dir, 'sys.creds');
        writeSecret(creds.sys, (await mintSystemUser(authority)).creds);
        out.result(
          {
            authority: authorityFile,
            config: configFile,
            resolverDir,
            creds,
            operator: authority.operator.publicKey,
            account: authority.account.publicKey,
            systemAccount: authority.system.publicKey,
          },
          [
            `wrote ${authorityFile} (secret), ${configFile} and ${Object.keys(creds).length} creds files in ${dir}`,
            `start the server with: nats-server -c ${configFile}`,
          ].join('\n'),
        );
      },
    );

  const mintCommand = (name: 'agent' | 'tool', arg: string, role: (id: string) => NatsRole) =>
    cmd
      .command(`${name} <${arg}>`)
      .description(`mint a ${name}'s NATS credentials (a .creds file) from the authority`)
      .requiredOption('--authority <file>', 'authority.json written by `nats-auth init`')
      .option('--out <file>', 'write the .creds file here (mode 0600) instead of printing it')
      .option('--expires <seconds>', 'the credentials expire after this many seconds')
      .action(async (id: string, o: { authority: string; out?: string; expires?: string }) => {
        const u = await mintUser(loadAuthority(o.authority), role(id), { expiresInSeconds: expiresIn(o.expires) });
        if (o.out) writeSecret(o.out, u.creds);
        const data = { [arg]: id, publicKey: u.publicKey, file: o.out ?? null, ...(o.out ? {} : { creds: u.creds }) };
        // The public key is what a later revocation names, so it is always reported.
        if (!o.out && !out.json) process.stderr.write(`user ${u.publicKey}\n`);
        out.result(data, o.out ? `wrote ${o.out} (user ${u.publicKey})` : u.creds.trimEnd());
      });

  mintCommand('agent', 'agentId', (agentId) => ({ role: 'agent', agentId }));
  mintCommand('tool', 'name', (name) => ({ role: 'tool', name }));
}
