import { connect, type NatsConnection } from '@nats-io/transport-node';
import { randomUUID } from 'node:crypto';
import { AgentClient, AdminClient, serveTool } from '#client';
import { Subjects, type SyscallReply } from '#contracts';
import { natsPermissionsConfig } from '../../apps/cli/src/ops/nats-permissions.js';
import { PrivateNatsServer } from '../support/private-nats-server.js';
import { startTestStack, type TestStack } from '../support/test-stack.js';
import { waitFor } from '../support/wait-for.js';

/**
 * The production permissions (one user per service, operator, agent and tool) on a real
 * nats-server: an agent can act only as itself. It cannot append to the log, publish commit
 * hints, reach ring 0 subjects, read others' replies or signals, or use a reply subject to make
 * the kernel publish for it.
 */
describe('NATS permissions of the production deployment', () => {
  const user = (name: string) => ({ user: name, password: `pw-${name}` });
  const services = {
    kernel: user('kernel'),
    policy: user('policy'),
    recorder: user('recorder'),
    vfs: user('vfs'),
  };
  const operators = user('ops');
  const agents = [
    { agentId: 'a1', ...user('agent-a1') },
    { agentId: 'a2', ...user('agent-a2') },
  ];
  const tools = [{ tool: 'lookup', ...user('tool-lookup') }];
  let nats: PrivateNatsServer;
  let t: TestStack;
  let prefix: string;
  const url = () => `nats://127.0.0.1:${nats.port}`;
  const as = (u: { user: string; password: string }, extra: Record<string, unknown> = {}) =>
    connect({ servers: url(), user: u.user, pass: u.password, ...extra });
  const serviceUrl = (u: { user: string; password: string }) => `nats://${u.user}:${u.password}@127.0.0.1:${nats.port}`;

  /** Permission errors the server reports on a connection. */
  function violations(nc: NatsConnection): string[] {
    const errors: string[] = [];
    void (async () => {
      for await (const s of nc.status()) if (s.type === 'error') errors.push(String((s as { error?: unknown }).error));
    })();
    return errors;
  }

  beforeAll(async () => {
    prefix = `perm${process.pid}`;
    nats = new PrivateNatsServer(natsPermissionsConfig({ subjectPrefix: prefix, services, operators, agents, tools }));
    await nats.start();
    t = await startTestStack({ natsUrl: serviceUrl(operators), prefix });
    // each service with its own credentials, as deployed
    for (const s of ['recorder', 'vfs', 'policy', 'kernel'] as const) {
      await t.stack.start(s, { AGENTOS_NATS_URL: serviceUrl(services[s]) });
    }
    const admin = await AdminClient.connect({ servers: url(), ...asPass(operators), subjectPrefix: prefix });
    await admin.createAgent('a1');
    await admin.createAgent('a2');
    await admin.registerTool('lookup');
    await admin.disconnect();
  });
  afterAll(async () => {
    await t.close();
    await nats.stop();
  });

  it('lets an agent make syscalls on its own subject, receive its own signals and call a tool', async () => {
    const a1 = await AgentClient.connect({
      servers: url(),
      ...asPass(agents[0]),
      agentId: 'a1',
      subjectPrefix: prefix,
    });
    expect(await a1.write('/mem/working/mine', 'ok')).toBe(2);
    const got: string[] = [];
    const off = a1.onSignal((n) => got.push(n.signal));
    await a1.flush();
    expect(await a1.signal('SIGUSR1')).toBe(true);
    await waitFor(() => got.length === 1, 5000, 'the signal notice');
    off();
    expect(got).toEqual(['SIGUSR1']);
    const tool = await serveTool({
      servers: url(),
      ...asPass(tools[0]),
      subjectPrefix: prefix,
      name: 'lookup',
      handler: () => 'found',
    });
    expect(await a1.exec('lookup', { q: 'x' })).toBe('found');
    await tool.stop();
    await a1.disconnect();
  });

  it('refuses an agent that publishes as another agent, to ring 0, to the recorder or on the commit feed', async () => {
    const nc = await as(agents[0], { inboxPrefix: '_INBOX.a1' });
    const errors = violations(nc);
    const attempt = (subject: string, body: unknown) =>
      nc.request(`${prefix}.${subject}`, JSON.stringify(body), { timeout: 1500 }).then(
        () => 'answered',
        (e: Error) => e.constructor.name,
      );
    const forged = {
      appends: [
        {
          streamId: 'agent:a2',
          expectedVersion: 'any',
          events: [
            {
              eventId: randomUUID(),
              type: 'SignalDelivered',
              schemaVersion: 1,
              data: {
                signal: 'SIGKILL',
                number: 4,
                source: 'x',
                reason: 'forged',
                outcome: 'default',
                at: new Date().toISOString(),
                transition: 'terminated',
              },
            },
          ],
        },
      ],
    };
    const outcomes = await Promise.all([
      attempt('v1.syscall.a2', { syscall: 'SYS_EXIT' }),
      attempt('v1.admin.agents.create', { agentId: 'evil' }),
      attempt('v1.recorder.append', forged),
      attempt('v1.policy.apply', { document: 'x' }),
    ]);
    expect(outcomes.every((o) => o !== 'answered')).toBe(true);
    nc.publish(
      `${prefix}.internal.feed.0`,
      JSON.stringify({ p: 0, head: 1e9, at: Date.now(), s: [['agent:a2', 1e9]] }),
    );
    await waitFor(() => errors.length >= 5, 5000, 'five permission violations');
    const text = errors.join('\n');
    for (const s of [
      'v1.syscall.a2',
      'v1.admin.agents.create',
      'v1.recorder.append',
      'v1.policy.apply',
      'internal.feed.0',
    ])
      expect(text).toContain(`Permissions Violation for Publish to "${prefix}.${s}"`);
    // nothing happened to a2, and no agent was created
    const ops = await AdminClient.connect({ servers: url(), ...asPass(operators), subjectPrefix: prefix });
    expect(await ops.getAgent('a2')).toMatchObject({ state: 'running', version: 1 });
    await expect(ops.getAgent('evil')).rejects.toMatchObject({ code: 2 });
    await ops.disconnect();
    await nc.close();
  });

  it("refuses an agent's subscription to another agent's signals or replies, to services' replies and to the feed", async () => {
    const nc = await as(agents[0], { inboxPrefix: '_INBOX.a1' });
    const errors = violations(nc);
    for (const s of [`${prefix}.v1.signal.a2`, '_INBOX.a2.>', '_INBOX.$kernel.>', `${prefix}.internal.feed.*`])
      nc.subscribe(s, { callback: () => undefined });
    await waitFor(() => errors.length >= 4, 5000, 'four permission violations');
    const text = errors.join('\n');
    for (const s of [`${prefix}.v1.signal.a2`, '_INBOX.a2.>', '_INBOX.$kernel.>', `${prefix}.internal.feed.*`])
      expect(text).toContain(`Permissions Violation for Subscription to "${s}"`);
    await nc.close();
  });

  it('never lets a reply subject make the kernel publish for an agent', async () => {
    // a2 listens on its signal subject; a1 asks the kernel to reply there
    const victim = await as(agents[1], { inboxPrefix: '_INBOX.a2' });
    const seen: string[] = [];
    victim.subscribe(`${prefix}.v1.signal.a2`, {
      callback: (_e, m) => {
        seen.push(m.string());
      },
    });
    await victim.flush();
    const a1 = await as(agents[0], { inboxPrefix: '_INBOX.a1' });
    const injected = `inject-${randomUUID()}`;
    a1.publish(
      `${prefix}.v1.syscall.a1`,
      JSON.stringify({ id: injected, syscall: 'SYS_CHECKPOLICY', args: { action: 'x' } }),
      { reply: `${prefix}.v1.signal.a2` },
    );
    // the kernel serves a1's requests in order: once a later one is answered, the first was handled
    const after = (
      await a1.request(
        `${prefix}.v1.syscall.a1`,
        JSON.stringify({ id: `after-${injected}`, syscall: 'SYS_CHECKPOLICY', args: { action: 'x' } }),
        { timeout: 5000 },
      )
    ).json<SyscallReply>();
    expect(after.success).toBe(true);
    await victim.flush();
    expect(seen).toEqual([]);
    // and the dropped request was not executed: nothing recorded under its id
    const ops = await AdminClient.connect({ servers: url(), ...asPass(operators), subjectPrefix: prefix });
    const page = await ops.request<{ events: { data: { requestId?: string } }[] }>(Subjects.auditQuery, {
      agentId: 'a1',
    });
    const ids = page.events.map((e) => e.data.requestId);
    expect(ids).toContain(`after-${injected}`);
    expect(ids).not.toContain(injected);
    await ops.disconnect();
    await a1.close();
    await victim.close();
  });

  it('keeps each service to its own subjects: the kernel cannot publish commit hints, the vfs cannot append', async () => {
    const kernel = await as(services.kernel, { inboxPrefix: '_INBOX.$kernel' });
    const vfs = await as(services.vfs, { inboxPrefix: '_INBOX.$vfs' });
    const ke = violations(kernel);
    const ve = violations(vfs);
    kernel.publish(`${prefix}.internal.feed.0`, '{}');
    vfs.publish(`${prefix}.v1.recorder.append`, '{}');
    await waitFor(() => ke.length >= 1 && ve.length >= 1, 5000, 'violations for both');
    expect(ke.join('\n')).toContain(`Permissions Violation for Publish to "${prefix}.internal.feed.0"`);
    expect(ve.join('\n')).toContain(`Permissions Violation for Publish to "${prefix}.v1.recorder.append"`);
    await kernel.close();
    await vfs.close();
  });
});

function asPass(u: { user: string; password: string }): { user: string; pass: string } {
  return { user: u.user, pass: u.password };
}
