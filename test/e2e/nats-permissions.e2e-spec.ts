import { connect, type NatsConnection } from '@nats-io/transport-node';
import { AgentClient, AdminClient, serveTool } from '#client';
import { Subjects } from '#contracts';
import { natsPermissionsConfig } from '../../apps/cli/src/ops/nats-permissions.js';
import { PrivateNatsServer } from '../support/private-nats-server.js';
import { startTestStack, type TestStack } from '../support/test-stack.js';

/** The subject is the identity: on a nats-server with the generated accounts, an agent can act only as itself. */
describe('NATS account permissions', () => {
  const services = { user: 'svc', password: 's3rvices' };
  const operators = { user: 'ops', password: '0perator' };
  const agents = [
    { agentId: 'a1', user: 'agent-a1', password: 'pw-a1' },
    { agentId: 'a2', user: 'agent-a2', password: 'pw-a2' },
  ];
  const tools = [{ tool: 'lookup', user: 'tool-lookup', password: 'pw-tool' }];
  let nats: PrivateNatsServer;
  let t: TestStack;
  let prefix: string;
  const url = () => `nats://127.0.0.1:${nats.port}`;
  const as = (u: { user: string; password: string }, extra: Record<string, unknown> = {}) =>
    connect({ servers: url(), user: u.user, pass: u.password, ...extra });

  beforeAll(async () => {
    prefix = `perm${process.pid}`;
    nats = new PrivateNatsServer(natsPermissionsConfig({ subjectPrefix: prefix, services, operators, agents, tools }));
    await nats.start();
    t = await startTestStack({
      services: ['recorder', 'vfs', 'kernel'],
      natsUrl: `nats://${services.user}:${services.password}@127.0.0.1:${nats.port}`,
      prefix,
    });
    const admin = await AdminClient.connect({
      servers: url(),
      user: operators.user,
      pass: operators.password,
      subjectPrefix: prefix,
    });
    await admin.createAgent('a1');
    await admin.createAgent('a2');
    await admin.registerTool('lookup');
    await admin.disconnect();
  });
  afterAll(async () => {
    await t.close();
    await nats.stop();
  });

  it('lets an agent make syscalls on its own subject and receive its own signals', async () => {
    const a1 = await AgentClient.connect({
      servers: url(),
      user: 'agent-a1',
      pass: 'pw-a1',
      agentId: 'a1',
      subjectPrefix: prefix,
    });
    expect(await a1.write('/mem/working/mine', 'ok')).toBe(2);
    const got: string[] = [];
    const off = a1.onSignal((n) => got.push(n.signal));
    await new Promise((r) => setTimeout(r, 100));
    expect(await a1.signal('SIGUSR1')).toBe(true);
    await new Promise((r) => setTimeout(r, 200));
    off();
    expect(got).toEqual(['SIGUSR1']);
    const tool = await serveTool({
      servers: url(),
      user: 'tool-lookup',
      pass: 'pw-tool',
      subjectPrefix: prefix,
      name: 'lookup',
      handler: () => 'found',
    });
    expect(await a1.exec('lookup', { q: 'x' })).toBe('found');
    await tool.stop();
    await a1.disconnect();
  });

  it("refuses an agent's publish on another agent's syscall subject and on ring 0 subjects", async () => {
    const nc: NatsConnection = await as(agents[0], { inboxPrefix: '_INBOX.a1' });
    const errors: string[] = [];
    void (async () => {
      for await (const s of nc.status()) if (s.type === 'error') errors.push(String((s as { error?: unknown }).error));
    })();
    const impersonate = nc
      .request(`${prefix}.v1.syscall.a2`, JSON.stringify({ syscall: 'SYS_EXIT' }), { timeout: 1500 })
      .then(
        () => 'answered',
        (e: Error) => e.constructor.name,
      );
    const admin = nc
      .request(`${prefix}.v1.admin.agents.create`, JSON.stringify({ agentId: 'evil' }), { timeout: 1500 })
      .then(
        () => 'answered',
        (e: Error) => e.constructor.name,
      );
    expect(await impersonate).not.toBe('answered');
    expect(await admin).not.toBe('answered');
    await new Promise((r) => setTimeout(r, 200));
    expect(errors.join('\n')).toMatch(/Permissions Violation for Publish to "perm\d+\.v1\.syscall\.a2"/i);
    expect(errors.join('\n')).toMatch(/Permissions Violation for Publish to "perm\d+\.v1\.admin\.agents\.create"/i);
    // nothing happened to a2, and no agent was created
    const ops = await AdminClient.connect({
      servers: url(),
      user: operators.user,
      pass: operators.password,
      subjectPrefix: prefix,
    });
    expect(await ops.getAgent('a2')).toMatchObject({ state: 'running', version: 1 });
    await expect(ops.getAgent('evil')).rejects.toMatchObject({ code: 2 });
    await ops.disconnect();
    await nc.close();
  });

  it("refuses an agent's subscription to another agent's signals or replies", async () => {
    const nc = await as(agents[0], { inboxPrefix: '_INBOX.a1' });
    const errors: string[] = [];
    void (async () => {
      for await (const s of nc.status()) if (s.type === 'error') errors.push(String((s as { error?: unknown }).error));
    })();
    nc.subscribe(`${prefix}.v1.signal.a2`, { callback: () => undefined });
    nc.subscribe('_INBOX.a2.>', { callback: () => undefined });
    nc.subscribe(Subjects.eventsCommitted.replace(/^agentos/, prefix), { callback: () => undefined });
    await nc.flush().catch(() => undefined);
    await new Promise((r) => setTimeout(r, 300));
    const text = errors.join('\n');
    expect(text).toMatch(/Permissions Violation for Subscription to "perm\d+\.v1\.signal\.a2"/i);
    expect(text).toMatch(/Permissions Violation for Subscription to "_INBOX\.a2\.>"/i);
    expect(text).toMatch(/Permissions Violation for Subscription to "perm\d+\.internal\.events\.committed"/i);
    await nc.close();
  });
});
