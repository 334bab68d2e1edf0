import { decode, parseCreds, type User } from '@nats-io/jwt';
import { createAuthority, type NatsAuthority } from './nats-authority.js';
import { mintSystemUser, mintUser, userClaims } from './user-credentials.js';

describe('user credentials', () => {
  let a: NatsAuthority;
  beforeAll(async () => {
    a = await createAuthority({ subjectPrefix: 'acme' });
  });

  it("mints an agent user signed by the account's signing key, with its permissions", async () => {
    const u = await mintUser(a, { role: 'agent', agentId: 'a1' });
    const c = decode<User>(u.jwt);
    expect(c.sub).toBe(u.publicKey);
    expect(c.name).toBe('agent:a1');
    expect(c.iss).toBe(a.account.signingKey.publicKey);
    expect(c.nats.issuer_account).toBe(a.account.publicKey);
    expect(c.nats.type).toBe('user');
    expect(c.nats.pub).toEqual({ allow: ['acme.v1.syscall.a1'] });
    expect(c.nats.sub).toEqual({ allow: ['_INBOX.a1.>', 'acme.v1.signal.a1'] });
    expect(c.nats.resp).toBeUndefined();
    expect(c.exp).toBeUndefined();
  });

  it('says "publish nothing" with a deny (an empty allow would mean everything) and allows replies', async () => {
    const c = decode<User>((await mintUser(a, { role: 'tool', name: 'lookup' })).jwt);
    expect(c.nats.pub).toEqual({ deny: ['>'] });
    expect(c.nats.sub).toEqual({ allow: ['acme.v1.tool.lookup'] });
    expect(c.nats.resp).toEqual({ max: 1, ttl: 0 });
    expect(userClaims({ pub: [], sub: [], allowResponses: true }, { responseTtlMs: 1500 })).toEqual({
      pub: { deny: ['>'] },
      sub: { deny: ['>'] },
      resp: { max: 1, ttl: 1_500_000_000 },
    });
  });

  it('sets an expiry when asked', async () => {
    const c = decode<User>((await mintUser(a, { role: 'kernel' }, { now: 1_000, expiresInSeconds: 60 })).jwt);
    expect(c.exp).toBe(1_060);
  });

  it('writes a standard .creds file that parses back to the same user', async () => {
    const u = await mintUser(a, { role: 'agent', agentId: 'a2' });
    expect(u.creds).toMatch(/^-----BEGIN NATS USER JWT-----\n[\w.-]+\n------END NATS USER JWT------\n/);
    expect(u.creds).toContain(`-----BEGIN USER NKEY SEED-----\n${u.seed}\n------END USER NKEY SEED------`);
    const parsed = await parseCreds(new TextEncoder().encode(u.creds));
    expect(parsed.jwt).toBe(u.jwt);
    expect(parsed.key).toBe(u.seed);
    expect(parsed.aid).toBe(a.account.publicKey);
    expect(u.seed).toMatch(/^SU/);
  });

  it('mints a system-account user signed by the system account', async () => {
    const c = decode<User>((await mintSystemUser(a)).jwt);
    expect(c.iss).toBe(a.system.publicKey);
    expect(c.nats.issuer_account).toBeUndefined();
  });

  it('gives every user a fresh key', async () => {
    const [x, y] = await Promise.all([mintUser(a, { role: 'vfs' }), mintUser(a, { role: 'vfs' })]);
    expect(x.publicKey).not.toBe(y.publicKey);
  });
});
