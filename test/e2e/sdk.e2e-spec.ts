import {
  AdminClient,
  AdminError,
  AgentClient,
  AgentNotRegisteredError,
  AgentStoppedError,
  AgentTerminatedError,
  InvalidRequestError,
  KernelUnavailableError,
  MissingArgumentError,
  NoHandlerError,
  ToolFailedError,
  ToolNotRegisteredError,
  VfsError,
  serveTool,
  type ServedTool,
} from '#client';
import type { SignalNotice } from '#contracts';
import { startTestStack, type TestStack } from '../support/test-stack.js';
import { waitFor } from '../support/wait-for.js';

/** The agent SDK against the real services: every syscall helper and every typed error. */
describe('agent SDK end to end', () => {
  let t: TestStack;
  let admin: AdminClient;
  let tool: ServedTool;
  const connect = (agentId: string) =>
    AgentClient.connect({ nc: t.nc, agentId, subjectPrefix: t.prefix, timeoutMs: 5000, retries: 1, backoffMs: 20 });

  beforeAll(async () => {
    t = await startTestStack({ services: ['recorder', 'vfs', 'kernel'] });
    admin = await AdminClient.connect({ nc: t.nc, subjectPrefix: t.prefix });
    tool = await serveTool({
      nc: t.nc,
      subjectPrefix: t.prefix,
      name: 'upper',
      register: { description: 'upper-cases text' },
      handler: ({ args }) => {
        if (typeof args.text !== 'string') throw new TypeError('text must be a string');
        return String(args.text).toUpperCase();
      },
    });
    for (const a of ['sdk1', 'sdk2', 'sdk3']) await admin.createAgent(a, 'worker');
  });
  afterAll(async () => {
    await tool.stop();
    await t.close();
  });

  it('manages agents through the admin client, with typed admin errors', async () => {
    expect(await admin.getAgent('sdk1')).toMatchObject({ agentId: 'sdk1', role: 'worker', state: 'running' });
    await expect(admin.createAgent('sdk1')).rejects.toMatchObject({ name: 'AdminError', code: -5 });
    const missing = await admin.getAgent('nobody').catch((e) => e);
    expect(missing).toBeInstanceOf(AdminError);
    expect(missing.code).toBe(2);
  });

  it('does files: write, append, read, base64, stat, open, close', async () => {
    const a = await connect('sdk1');
    expect(await a.write('/mem/semantic/facts.txt', 'sky=blue\n')).toBe(9);
    expect(await a.write('/mem/semantic/facts.txt', 'grass=green\n', { mode: 'a' })).toBe(12);
    expect(await a.read('/mem/semantic/facts.txt')).toBe('sky=blue\ngrass=green\n');
    const raw = Buffer.from([0xff, 0x00, 0x10, 0x80]);
    expect(await a.write('/state/raw', raw.toString('base64'), { encoding: 'base64' })).toBe(4);
    expect(await a.read('/state/raw', { encoding: 'base64' })).toBe(raw.toString('base64'));
    expect(await a.stat('/mem/semantic/facts.txt')).toMatchObject({ type: 'file', size: 21 });
    const fd = await a.open('/mem/semantic/facts.txt', 'r');
    expect(fd).toBe(1);
    await a.close(fd);
    await expect(a.close(fd)).rejects.toBeInstanceOf(VfsError);
    await expect(a.read('/mem/semantic/none')).rejects.toBeInstanceOf(VfsError);
    await expect(a.write('/mem/working/../policy/x', 'x')).rejects.toMatchObject({ name: 'VfsError', code: 3 });
    await expect(a.open('/mem/working/x', 'rw' as 'r')).rejects.toBeInstanceOf(InvalidRequestError);
    await expect(a.syscall('SYS_WRITE', { path: '/mem/working/x' }).then((r) => r.errorCode)).resolves.toBe(1);
    await expect(a.write(undefined as unknown as string, 'x')).rejects.toBeInstanceOf(MissingArgumentError);
  });

  it('calls tools, with -404 and -500 as typed errors', async () => {
    const a = await connect('sdk1');
    expect(await a.exec('upper', { text: 'quiet' })).toBe('QUIET');
    await expect(a.exec('upper', { text: 3 })).rejects.toMatchObject({
      name: 'ToolFailedError',
      message: 'TypeError: text must be a string',
    });
    await expect(a.exec('unknown_tool')).rejects.toBeInstanceOf(ToolNotRegisteredError);
    expect(ToolFailedError).toBeDefined();
  });

  it('checks and shows policy', async () => {
    const a = await connect('sdk1');
    expect(await a.checkPolicy('upper')).toMatchObject({ allowed: true, action: 'upper', agentId: 'sdk1' });
    expect(await a.getPolicy()).toMatchObject({ policyVersion: null, mode: 'permissive' });
  });

  it('signals: notices, masks, dispositions, stop (-6) and continue', async () => {
    const a = await connect('sdk2');
    const b = await connect('sdk3');
    const notices: SignalNotice[] = [];
    const off = a.onSignal((n) => notices.push(n));
    await t.nc.flush();
    expect(await a.sigaction('SIGUSR2', 'handle')).toBe('default');
    expect(await a.sigprocmask('block', ['SIGINT'])).toEqual({ blocked: ['SIGINT'], delivered: [] });
    expect(await b.signal('SIGUSR2', { target: 'sdk2', reason: 'hello' })).toBe(true);
    expect(await b.signal('SIGINT', { target: 'sdk2' })).toBe(true); // queued
    // sdk3 and sdk2 may live in different partitions: then the relay delivers both just after the replies
    await waitFor(() => notices.length >= 2, 10_000, 'the notices of both signals to sdk2');
    expect(await a.stat('/mem/working')).toMatchObject({ type: 'directory' });
    expect(await a.sigprocmask('unblock', ['SIGINT'])).toEqual({ blocked: [], delivered: ['SIGINT'] });
    await expect(a.read('/mem/working/x')).rejects.toBeInstanceOf(AgentStoppedError);
    expect(await admin.signalAgent('sdk2', 'SIGCONT')).toEqual({ delivered: true, state: 'running' });
    await new Promise((r) => setTimeout(r, 100));
    off();
    expect(notices.map((n) => [n.signal, n.outcome])).toEqual([
      ['SIGUSR2', 'handled'],
      ['SIGINT', 'blocked'],
      ['SIGINT', 'default'],
      ['SIGCONT', 'default'],
    ]);
    await expect(b.signal('SIGKILL', { target: 'ghost' })).rejects.toBeInstanceOf(AgentNotRegisteredError);
  });

  it('answers -3 for unimplemented syscalls and -1 after exit', async () => {
    const a = await connect('sdk3');
    await expect(a.syscall('SYS_MMAP').then((r) => r.errorCode)).resolves.toBe(-3);
    await expect(
      a.syscall('SYS_PIPE').then((r) => {
        if (!r.success) throw new NoHandlerError(r.errorCode!, r.errorMessage!, 'SYS_PIPE', r.id);
      }),
    ).rejects.toBeInstanceOf(NoHandlerError);
    expect(await a.exit(0)).toBe(0);
    await expect(a.read('/x')).rejects.toBeInstanceOf(AgentTerminatedError);
  });

  it('reports an unregistered agent and an unreachable kernel as typed errors', async () => {
    const ghost = await connect('ghost');
    await expect(ghost.read('/mem/working/x')).rejects.toBeInstanceOf(AgentNotRegisteredError);
    const elsewhere = await AgentClient.connect({
      nc: t.nc,
      agentId: 'sdk1',
      subjectPrefix: `${t.prefix}-none`,
      timeoutMs: 200,
      retries: 1,
      backoffMs: 10,
    });
    await expect(elsewhere.read('/x')).rejects.toBeInstanceOf(KernelUnavailableError);
  });
});
