import { decode } from '@nats-io/jwt';
import { connect, credsAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  agentInboxPrefix,
  createAuthority,
  mintSystemUser,
  mintUser,
  natsServerConfig,
  pushAccountJwt,
  revokeUsers,
  serviceInboxPrefix,
  type NatsAuthority,
  type UserCredentials,
} from '#nats-auth';
import { PrivateNatsServer } from '../support/private-nats-server.js';

/**
 * Decentralised NATS auth on a real nats-server: agents get credentials minted after the server
 * started and lose them by an account JWT update, with no restart and no config change.
 */
describe('NATS per-agent credentials (operator mode, full resolver)', () => {
  const prefix = `nauth${process.pid}`;
  let authority: NatsAuthority;
  let nats: PrivateNatsServer;
  let kernel: NatsConnection;
  let sys: NatsConnection;
  const open: NatsConnection[] = [];
  let survivorKey = '';
  let initialAccountJwt = '';

  const as = async (u: UserCredentials, extra: Record<string, unknown> = {}) => {
    const nc = await connect({
      servers: nats.url,
      authenticator: credsAuthenticator(new TextEncoder().encode(u.creds)),
      ...extra,
    });
    open.push(nc);
    return nc;
  };

  /** Server errors (-ERR) seen on a connection, and a way to wait for one with a deadline. */
  const watchErrors = (nc: NatsConnection) => {
    const seen: string[] = [];
    const waiters: { re: RegExp; resolve: () => void }[] = [];
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type !== 'error') continue;
        seen.push(String((s as { error?: unknown }).error));
        for (const w of waiters) if (seen.some((e) => w.re.test(e))) w.resolve();
      }
    })();
    return {
      seen,
      waitFor: (re: RegExp, ms = 5000) =>
        new Promise<void>((resolve, reject) => {
          if (seen.some((e) => re.test(e))) return resolve();
          const t = setTimeout(
            () => reject(new Error(`no error matching ${re} within ${ms} ms; saw: ${seen.join(' | ')}`)),
            ms,
          );
          waiters.push({ re, resolve: () => (clearTimeout(t), resolve()) });
        }),
    };
  };

  const within = async <T>(p: Promise<T>, ms: number, what: string): Promise<T> => {
    let t: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      t = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
    });
    try {
      return await Promise.race([p, late]);
    } finally {
      clearTimeout(t);
    }
  };

  const syscall = (nc: NatsConnection, agentId: string) =>
    nc.request(`${prefix}.v1.syscall.${agentId}`, JSON.stringify({ syscall: 'SYS_PING' }), { timeout: 3000 });

  beforeAll(async () => {
    authority = await createAuthority({ subjectPrefix: prefix });
    initialAccountJwt = authority.account.jwt;
    const resolverDir = path.join(mkdtempSync(path.join(os.tmpdir(), 'agentos-nats-auth-')), 'jwt');
    nats = new PrivateNatsServer(natsServerConfig(authority, { resolverDir }));
    await nats.start();
    // The kernel: answers every agent's syscalls, naming the agent the subject says it is.
    kernel = await as(await mintUser(authority, { role: 'kernel' }), { inboxPrefix: serviceInboxPrefix('kernel') });
    kernel.subscribe(`${prefix}.v1.syscall.*`, {
      callback: (_err, m) => {
        m.respond(JSON.stringify({ ok: true, agentId: m.subject.split('.').pop() }));
      },
    });
    await kernel.flush();
    sys = await as(await mintSystemUser(authority));
  });

  afterAll(async () => {
    await Promise.all(open.map((nc) => (nc.isClosed() ? undefined : nc.close().catch(() => undefined))));
    await nats?.stop();
  });

  it('lets a service subscribe to every syscall subject and answer a request', async () => {
    const kernelErrors = watchErrors(kernel);
    const mcp = await as(await mintUser(authority, { role: 'mcp' }), { inboxPrefix: serviceInboxPrefix('mcp') });
    const reply = await syscall(mcp, 'via-gateway');
    expect(reply.json()).toEqual({ ok: true, agentId: 'via-gateway' });
    expect(kernelErrors.seen).toEqual([]);
  });

  it('admits an agent minted after the server started, only on its own subjects', async () => {
    const creds = await mintUser(authority, { role: 'agent', agentId: 'a1' });
    const a1 = await as(creds, { inboxPrefix: agentInboxPrefix('a1') });
    const errors = watchErrors(a1);
    expect((await syscall(a1, 'a1')).json()).toEqual({ ok: true, agentId: 'a1' });

    const impersonate = syscall(a1, 'a2').then(
      () => 'answered',
      (e: Error) => e.name,
    );
    const admin = a1
      .request(`${prefix}.v1.admin.agents.create`, JSON.stringify({ agentId: 'evil' }), { timeout: 3000 })
      .then(
        () => 'answered',
        (e: Error) => e.name,
      );
    await errors.waitFor(new RegExp(`Permissions Violation for Publish to "${prefix}\\.v1\\.syscall\\.a2"`, 'i'));
    await errors.waitFor(
      new RegExp(`Permissions Violation for Publish to "${prefix}\\.v1\\.admin\\.agents\\.create"`, 'i'),
    );
    expect(await impersonate).not.toBe('answered');
    expect(await admin).not.toBe('answered');
    // and it cannot read another agent's replies or a service's
    a1.subscribe('_INBOX.a2.>', { callback: () => undefined });
    a1.subscribe(`${serviceInboxPrefix('kernel')}.>`, { callback: () => undefined });
    await errors.waitFor(/Permissions Violation for Subscription to "_INBOX\.a2\.>"/i);
    await errors.waitFor(/Permissions Violation for Subscription to "_INBOX\.\$kernel\.>"/i);
    // still connected and still itself
    expect((await syscall(a1, 'a1')).json()).toEqual({ ok: true, agentId: 'a1' });
  });

  it('revokes an agent by an account JWT update: connection closed, creds refused, others unaffected', async () => {
    const doomed = await mintUser(authority, { role: 'agent', agentId: 'doomed' });
    const survivor = await mintUser(authority, { role: 'agent', agentId: 'survivor' });
    survivorKey = survivor.publicKey;
    const d = await as(doomed, { inboxPrefix: agentInboxPrefix('doomed'), reconnect: false });
    const s = await as(survivor, { inboxPrefix: agentInboxPrefix('survivor') });
    expect((await syscall(d, 'doomed')).json()).toEqual({ ok: true, agentId: 'doomed' });

    const next = await revokeUsers(authority, [doomed.publicKey]);
    await pushAccountJwt(sys, next.account.jwt, { operatorPublicKey: authority.operator.publicKey });
    authority = next;

    // The server closes the revoked user's connection itself; a publish after that cannot succeed.
    await within(d.closed(), 5000, "the revoked agent's connection to close");
    expect(d.isClosed()).toBe(true);
    await expect(syscall(d, 'doomed')).rejects.toThrow();
    // The same creds no longer authenticate.
    await expect(as(doomed, { reconnect: false })).rejects.toThrow(/authorization violation/i);
    // Nobody else was touched: an agent minted before, the kernel, and one minted after.
    expect((await syscall(s, 'survivor')).json()).toEqual({ ok: true, agentId: 'survivor' });
    const fresh = await as(await mintUser(authority, { role: 'agent', agentId: 'fresh' }), {
      inboxPrefix: agentInboxPrefix('fresh'),
    });
    expect((await syscall(fresh, 'fresh')).json()).toEqual({ ok: true, agentId: 'fresh' });
  });

  it("surfaces the server's refusal, and refuses locally a JWT from another operator", async () => {
    await expect(pushAccountJwt(sys, 'not-a-jwt')).rejects.toThrow(/refused the account JWT: .*expected 3 chunks/);
    const other = await createAuthority({ subjectPrefix: prefix });
    const forged = await revokeUsers(
      { ...other, account: { ...other.account, publicKey: authority.account.publicKey } },
      [survivorKey],
    );
    await expect(
      pushAccountJwt(sys, forged.account.jwt, { operatorPublicKey: authority.operator.publicKey }),
    ).rejects.toThrow(/not by the operator/);
  });

  it('applies back-to-back revocations and keeps them across a restart with the unchanged config', async () => {
    const [b1, b2] = await Promise.all(['b1', 'b2'].map((agentId) => mintUser(authority, { role: 'agent', agentId })));
    const c1 = await as(b1, { inboxPrefix: agentInboxPrefix('b1'), reconnect: false });
    const c2 = await as(b2, { inboxPrefix: agentInboxPrefix('b2'), reconnect: false });
    // The stored JWT must be newer (by its iat second) than the preload for the restart to keep it.
    const preloadIat = decode(initialAccountJwt).iat;
    while (Math.floor(Date.now() / 1000) <= preloadIat) await new Promise((r) => setTimeout(r, 50));
    // Two updates within the same second: the second must not be ignored as "not newer".
    const first = await revokeUsers(authority, [b1.publicKey]);
    await pushAccountJwt(sys, first.account.jwt, { operatorPublicKey: authority.operator.publicKey });
    const second = await revokeUsers(first, [b2.publicKey]);
    await pushAccountJwt(sys, second.account.jwt, { operatorPublicKey: authority.operator.publicKey });
    authority = second;
    await within(Promise.all([c1.closed(), c2.closed()]), 5000, 'both revoked connections to close');

    await nats.stop();
    await nats.start(nats.port);
    await expect(as(b1, { reconnect: false })).rejects.toThrow(/authorization violation/i);
    await expect(as(b2, { reconnect: false })).rejects.toThrow(/authorization violation/i);
    const k = await as(await mintUser(authority, { role: 'kernel' }), { inboxPrefix: serviceInboxPrefix('kernel') });
    k.subscribe(`${prefix}.v1.syscall.*`, {
      callback: (_err, m) => {
        m.respond(JSON.stringify({ ok: true, agentId: m.subject.split('.').pop() }));
      },
    });
    await k.flush();
    const after = await as(await mintUser(authority, { role: 'agent', agentId: 'after' }), {
      inboxPrefix: agentInboxPrefix('after'),
    });
    expect((await syscall(after, 'after')).json()).toEqual({ ok: true, agentId: 'after' });
  });
});
