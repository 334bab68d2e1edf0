import { decode, type Account } from '@nats-io/jwt';
import { revokeUsers } from './account-revocations.js';
import { createAuthority, type NatsAuthority } from './nats-authority.js';
import { mintUser } from './user-credentials.js';

describe('revokeUsers', () => {
  let a: NatsAuthority;
  beforeAll(async () => {
    a = await createAuthority();
  });

  it('re-signs the account JWT with the revocation, keeping its signing key and limits', async () => {
    const u = await mintUser(a, { role: 'agent', agentId: 'a1' });
    const next = await revokeUsers(a, [u.publicKey], { at: 1_700_000_000 });
    const c = decode<Account>(next.account.jwt);
    expect(c.iss).toBe(a.operator.publicKey);
    expect(c.sub).toBe(a.account.publicKey);
    expect(c.nats.revocations).toEqual({ [u.publicKey]: 1_700_000_000 });
    expect(c.nats.signing_keys).toEqual([a.account.signingKey.publicKey]);
    expect(c.nats.limits).toEqual(decode<Account>(a.account.jwt).nats.limits);
    expect(next.account.revocations).toEqual({ [u.publicKey]: 1_700_000_000 });
    // pure: the old authority is untouched
    expect(a.account.revocations).toEqual({});
  });

  it('accumulates revocations, never moves one back in time, and forgets old ones on request', async () => {
    const [u1, u2] = await Promise.all([mintUser(a, { role: 'vfs' }), mintUser(a, { role: 'vfs' })]);
    const once = await revokeUsers(a, [u1.publicKey], { at: 100 });
    const twice = await revokeUsers(once, [u2.publicKey, u1.publicKey], { at: 200 });
    expect(twice.account.revocations).toEqual({ [u1.publicKey]: 200, [u2.publicKey]: 200 });
    const earlier = await revokeUsers(twice, [u1.publicKey], { at: 50 });
    expect(earlier.account.revocations[u1.publicKey]).toBe(200);
    const pruned = await revokeUsers(once, [u2.publicKey], { at: 300, forgetBefore: 150 });
    expect(pruned.account.revocations).toEqual({ [u2.publicKey]: 300 });
  });

  it('refuses something that is not a user key', async () => {
    await expect(revokeUsers(a, [a.account.publicKey])).rejects.toThrow(/not a user public key/);
  });
});
