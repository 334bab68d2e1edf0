import { decode, type Account, type Operator } from '@nats-io/jwt';
import { authorityFromJson, authorityToJson, createAuthority } from './nats-authority.js';

describe('NatsAuthority', () => {
  it('creates a self-signed operator naming the system account, and two operator-signed accounts', async () => {
    const a = await createAuthority({ subjectPrefix: 'acme' });
    expect(a.subjectPrefix).toBe('acme');
    const op = decode<Operator>(a.operator.jwt);
    expect(op).toMatchObject({ iss: a.operator.publicKey, sub: a.operator.publicKey, name: 'agentos' });
    expect(op.nats).toMatchObject({ type: 'operator', version: 2, system_account: a.system.publicKey });

    const sys = decode<Account>(a.system.jwt);
    expect(sys).toMatchObject({ iss: a.operator.publicKey, sub: a.system.publicKey, name: 'SYS' });

    const app = decode<Account>(a.account.jwt);
    expect(app).toMatchObject({ iss: a.operator.publicKey, sub: a.account.publicKey, name: 'AGENTOS' });
    expect(app.nats.signing_keys).toEqual([a.account.signingKey.publicKey]);
    expect(app.nats.limits).toMatchObject({ conn: -1, subs: -1, payload: -1, data: -1 });
    expect(app.nats.revocations).toBeUndefined();
    expect(a.account.signingKey.publicKey).not.toBe(a.account.publicKey);
    expect(a.operator.publicKey).toMatch(/^O/);
    expect(a.account.publicKey).toMatch(/^A/);
    expect(a.operator.seed).toMatch(/^SO/);
  });

  it('round-trips through JSON and rejects a file whose seed and key disagree', async () => {
    const a = await createAuthority();
    expect(authorityFromJson(authorityToJson(a))).toEqual(a);
    const b = await createAuthority();
    const tampered = {
      ...a,
      account: { ...a.account, signingKey: { ...a.account.signingKey, seed: b.account.signingKey.seed } },
    };
    expect(() => authorityFromJson(JSON.stringify(tampered))).toThrow(/account signing key/);
    expect(() => authorityFromJson('{"kind":"other"}')).toThrow(/not an agentos NATS authority/);
  });
});
