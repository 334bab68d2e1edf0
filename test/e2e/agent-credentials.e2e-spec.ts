import { connect, credsAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AdminClient, AgentClient } from '#client';
import { Subjects } from '#contracts';
import { authorityToJson, createAuthority, mintUser, natsServerConfig, type NatsAuthority } from '#nats-auth';
import { PrivateNatsServer } from '../support/private-nats-server.js';
import { startTestStack, type TestStack } from '../support/test-stack.js';
import { waitFor } from '../support/wait-for.js';

/**
 * Credentials a fleet can live with: the kernel mints an agent's NATS credentials when the agent
 * is created and revokes them when it is destroyed, on a nats-server in operator mode that is
 * never restarted or reconfigured; every service runs with its own credentials.
 */
describe('agent credentials issued and revoked by the kernel', () => {
  const prefix = `cred${process.pid}`;
  let authority: NatsAuthority;
  let nats: PrivateNatsServer;
  let t: TestStack;
  let admin: AdminClient;
  const open: NatsConnection[] = [];

  beforeAll(async () => {
    authority = await createAuthority({ subjectPrefix: prefix });
    const dir = mkdtempSync(path.join(os.tmpdir(), 'agentos-creds-'));
    const authorityFile = path.join(dir, 'authority.json');
    writeFileSync(authorityFile, authorityToJson(authority), { mode: 0o600 });
    nats = new PrivateNatsServer(natsServerConfig(authority, { resolverDir: path.join(dir, 'jwt') }));
    await nats.start();
    const credsFile = async (role: 'kernel' | 'policy' | 'recorder' | 'vfs' | 'operator') => {
      const file = path.join(dir, `${role}.creds`);
      writeFileSync(file, (await mintUser(authority, { role })).creds, { mode: 0o600 });
      return file;
    };
    const operatorCreds = (await mintUser(authority, { role: 'operator' })).creds;
    t = await startTestStack({ natsUrl: nats.url, prefix, natsCreds: operatorCreds });
    for (const s of ['recorder', 'vfs', 'policy'] as const)
      await t.stack.start(s, { AGENTOS_NATS_CREDS: await credsFile(s) });
    await t.stack.start('kernel', {
      AGENTOS_NATS_CREDS: await credsFile('kernel'),
      AGENTOS_NATS_AUTHORITY: authorityFile,
    });
    admin = await AdminClient.connect({ servers: nats.url, creds: operatorCreds, subjectPrefix: prefix });
  });
  afterAll(async () => {
    await admin?.close();
    for (const nc of open) if (!nc.isClosed()) await nc.close().catch(() => undefined);
    await t?.close();
    await nats?.stop();
  });

  const agent = async (agentId: string, creds: string) => {
    const c = await AgentClient.connect({ servers: nats.url, creds, agentId, subjectPrefix: prefix, retries: 0 });
    return c;
  };

  it('returns credentials on create that work at once, for that agent only, with no server change', async () => {
    const created = await admin.createAgent('c1');
    expect(created).toMatchObject({ agentId: 'c1', state: 'running' });
    const creds = (created as { credentials?: string }).credentials;
    expect(creds).toMatch(/-----BEGIN NATS USER JWT-----/);
    const c1 = await agent('c1', creds!);
    expect(await c1.write('/mem/working/hello', 'hi')).toBe(2);
    expect(await c1.read('/mem/working/hello')).toBe('hi');
    // the agent's record names the credential (public key only, never the seed)
    const info = await admin.getAgent('c1');
    expect(info.credentials).toEqual([expect.stringMatching(/^U[A-Z2-7]{55}$/)]);
    expect(JSON.stringify(info)).not.toContain('SUA');
    // c1's credentials cannot speak for another agent
    const raw = await connect({
      servers: nats.url,
      authenticator: credsAuthenticator(new TextEncoder().encode(creds!)),
    });
    open.push(raw);
    const errors: string[] = [];
    void (async () => {
      for await (const s of raw.status()) if (s.type === 'error') errors.push(String((s as { error?: unknown }).error));
    })();
    raw.publish(`${prefix}.v1.syscall.c2`, '{}');
    await waitFor(() => errors.length > 0, 5000, 'a permission violation');
    expect(errors[0]).toContain(`Permissions Violation for Publish to "${prefix}.v1.syscall.c2"`);
    await c1.disconnect();
  });

  it('revokes every credential of an agent when it is destroyed: its connection ends and it cannot come back', async () => {
    const created = (await admin.createAgent('c2')) as { credentials?: string };
    const again = await admin.request<{ credentials: string; publicKey: string }>(Subjects.adminAgentsCredentials, {
      agentId: 'c2',
    });
    const bystander = (await admin.createAgent('c3')) as { credentials?: string };
    const conns = await Promise.all(
      [created.credentials!, again.credentials].map(async (creds) => {
        const nc = await connect({
          servers: nats.url,
          authenticator: credsAuthenticator(new TextEncoder().encode(creds)),
          maxReconnectAttempts: 0,
        });
        open.push(nc);
        return nc;
      }),
    );
    expect((await admin.getAgent('c2')).credentials).toHaveLength(2);

    await admin.destroyAgent('c2', 'retired');
    // the server closes both connections of the revoked keys (no restart, no config change)
    await waitFor(() => conns.every((nc) => nc.isClosed()), 10_000, 'the revoked connections to close');
    await expect(
      connect({ servers: nats.url, authenticator: credsAuthenticator(new TextEncoder().encode(again.credentials)) }),
    ).rejects.toThrow(/Authorization Violation/i);
    expect((await admin.getAgent('c2')).credentials).toEqual([]);
    // the revocation is in the log
    const page = await admin.request<{ events: { type: string; data: { publicKey?: string } }[] }>(
      Subjects.auditQuery,
      {
        agentId: 'c2',
        types: ['CredentialRevoked'],
      },
    );
    expect(page.events.map((e) => e.data.publicKey).sort()).toEqual(
      [(await decodedKey(created.credentials!))!, again.publicKey].sort(),
    );
    // another agent is untouched, and agents created afterwards work
    const c3 = await agent('c3', bystander.credentials!);
    expect(await c3.write('/mem/working/x', 'ok')).toBe(2);
    await c3.disconnect();
    const c4 = await agent('c4', ((await admin.createAgent('c4')) as { credentials?: string }).credentials!);
    expect(await c4.checkPolicy('file_read')).toMatchObject({ allowed: true });
    await c4.disconnect();
  });
});

/** The user public key inside a creds file's JWT. */
async function decodedKey(creds: string): Promise<string | undefined> {
  const { decode } = await import('@nats-io/jwt');
  const jwt = creds.split('-----BEGIN NATS USER JWT-----')[1]?.split('------END NATS USER JWT------')[0]?.trim();
  return jwt ? (decode(jwt) as { sub?: string }).sub : undefined;
}
