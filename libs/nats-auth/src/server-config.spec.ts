import { createAuthority } from './nats-authority.js';
import { natsServerConfig } from './server-config.js';

describe('natsServerConfig', () => {
  it('configures operator mode with a full resolver preloaded with both accounts', async () => {
    const a = await createAuthority();
    const text = natsServerConfig(a, { resolverDir: '/var/lib/nats/jwt', host: '127.0.0.1', port: 4333 });
    expect(text).toContain(`operator: ${a.operator.jwt}\n`);
    expect(text).toContain(`system_account: ${a.system.publicKey}\n`);
    expect(text).toContain('host: "127.0.0.1"\nport: 4333\n');
    expect(text).toContain(
      'resolver: {\n  type: full\n  dir: "/var/lib/nats/jwt"\n  allow_delete: false\n  interval: "2m"\n}\n',
    );
    expect(text).toContain(
      `resolver_preload: {\n  ${a.account.publicKey}: ${a.account.jwt}\n  ${a.system.publicKey}: ${a.system.jwt}\n}\n`,
    );
    expect(text).not.toMatch(/SO[A-Z2-7]{50,}|SA[A-Z2-7]{50,}/); // no seeds in the server's config
  });

  it('leaves the listen address to the command line unless given', async () => {
    const text = natsServerConfig(await createAuthority(), { resolverDir: 'jwt', syncInterval: '30s' });
    expect(text).not.toMatch(/^(host|port):/m);
    expect(text).toContain('interval: "30s"');
  });
});
