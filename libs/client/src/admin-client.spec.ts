import { connect, errors, type NatsConnection } from '@nats-io/transport-node';
import { randomBytes } from 'node:crypto';
import { AdminClient } from './admin-client.js';
import { AdminError } from './admin-error.js';

const NATS = 'nats://127.0.0.1:4222';

/** Ring 0 requests against a scripted kernel on this file's own subject prefix. */
describe('AdminClient', () => {
  const prefix = `sdk-admin-${randomBytes(4).toString('hex')}`;
  let nc: NatsConnection;
  let admin: AdminClient;
  /** Requests received, as [subject without prefix, body]. */
  let seen: [string, unknown][];
  let answer: (subject: string, body: Record<string, unknown>) => unknown;

  beforeAll(async () => {
    nc = await connect({ servers: NATS });
    nc.subscribe(`${prefix}.v1.>`, {
      callback: (_e, m) => {
        const subject = m.subject.slice(prefix.length + 1);
        const body = m.json<Record<string, unknown>>();
        seen.push([subject, body]);
        m.respond(JSON.stringify(answer(subject, body)));
      },
    });
    await nc.flush();
    admin = await AdminClient.connect({ servers: NATS, nc, subjectPrefix: prefix });
  });
  beforeEach(() => {
    seen = [];
    answer = () => ({});
  });
  afterAll(async () => {
    await nc.close();
  });

  it('sends each operation to its subject and returns the reply', async () => {
    answer = (subject, b) =>
      subject === 'v1.admin.agents.create'
        ? { agentId: b.agentId, role: b.role ?? 'default', state: 'running' }
        : subject === 'v1.admin.agents.get'
          ? { agentId: b.agentId, role: 'writer', state: 'stopped', version: 4, pendingSignals: [] }
          : subject === 'v1.admin.agents.signal'
            ? { delivered: true, state: 'stopped' }
            : { name: b.name };
    expect(await admin.createAgent('a1', 'writer')).toEqual({ agentId: 'a1', role: 'writer', state: 'running' });
    expect(await admin.createAgent('a2')).toEqual({ agentId: 'a2', role: 'default', state: 'running' });
    expect(await admin.getAgent('a1')).toMatchObject({ agentId: 'a1', state: 'stopped', version: 4 });
    expect(await admin.signalAgent('a1', 'SIGSTOP', 'maintenance')).toEqual({ delivered: true, state: 'stopped' });
    expect(await admin.registerTool('word_count', 'counts words')).toEqual({ name: 'word_count' });
    expect(seen).toEqual([
      ['v1.admin.agents.create', { agentId: 'a1', role: 'writer' }],
      ['v1.admin.agents.create', { agentId: 'a2' }],
      ['v1.admin.agents.get', { agentId: 'a1' }],
      ['v1.admin.agents.signal', { agentId: 'a1', signal: 'SIGSTOP', reason: 'maintenance' }],
      ['v1.admin.tools.register', { name: 'word_count', description: 'counts words' }],
    ]);
  });

  it('throws AdminError with the code and message of an {error} reply', async () => {
    answer = () => ({ error: { code: 2, message: 'Agent ghost is not registered' } });
    const err = await admin.getAgent('ghost').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AdminError);
    expect(err).toMatchObject({
      name: 'AdminError',
      code: 2,
      message: 'Agent ghost is not registered',
      subject: `${prefix}.v1.admin.agents.get`,
    });
    answer = () => ({ error: { code: -5, message: 'Agent a1 already exists' } });
    await expect(admin.createAgent('a1')).rejects.toMatchObject({ name: 'AdminError', code: -5 });
    answer = () => ({ error: {} });
    await expect(admin.registerTool('t')).rejects.toMatchObject({ code: -4, message: 'admin request failed' });
  });

  it('request() reaches any protocol subject on the deployment prefix', async () => {
    answer = () => ({ agents: [], next: null });
    expect(await admin.request('agentos.v1.admin.agents.list', { after: 'a1' })).toEqual({ agents: [], next: null });
    expect(seen).toEqual([['v1.admin.agents.list', { after: 'a1' }]]);
  });

  it('lets transport failures through as they are (no retries: creating twice is an error)', async () => {
    const elsewhere = await AdminClient.connect({ nc, subjectPrefix: `${prefix}-none`, timeoutMs: 200 });
    const err = await elsewhere.createAgent('a1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(errors.RequestError);
    expect(String(err)).toMatch(/no responders/);
  });

  it('close() leaves a shared connection open and closes its own', async () => {
    await admin.close();
    expect(nc.isClosed()).toBe(false);
    const own = await AdminClient.connect({ servers: NATS, subjectPrefix: prefix });
    answer = () => ({ name: 't' });
    expect(await own.registerTool('t')).toEqual({ name: 't' });
    await own.close();
    await expect(own.registerTool('t')).rejects.toThrow(/closed/);
  });
});
