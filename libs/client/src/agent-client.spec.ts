import { connect, type NatsConnection } from '@nats-io/transport-node';
import { randomBytes } from 'node:crypto';
import { AdminClient } from './admin-client.js';
import { AgentClient } from './agent-client.js';
import {
  AdminError,
  AgentStoppedError,
  KernelUnavailableError,
  PolicyViolationError,
  SyscallError,
  ToolFailedError,
  VfsError,
} from './syscall-errors.js';
import { serveTool } from './tool-provider.js';

/** Against the real NATS server, with a scripted kernel on a private subject prefix. */
describe('AgentClient', () => {
  const prefix = `sdk${randomBytes(4).toString('hex')}`;
  let nc: NatsConnection;
  let seen: { id: string; syscall: string; args: Record<string, unknown> }[] = [];
  let script: ((req: { id: string; syscall: string; args: Record<string, unknown> }, n: number) => unknown) | null =
    null;

  beforeAll(async () => {
    nc = await connect({ servers: 'nats://127.0.0.1:4222' });
    nc.subscribe(`${prefix}.v1.syscall.a1`, {
      callback: (_e, m) => {
        const req = m.json<{ id: string; syscall: string; args: Record<string, unknown> }>();
        seen.push(req);
        const out = script ? script(req, seen.length) : { ok: true };
        if (out !== undefined) m.respond(JSON.stringify(out));
      },
    });
    await nc.flush();
  });
  beforeEach(() => {
    seen = [];
    script = null;
  });
  afterAll(async () => {
    await nc.close();
  });

  const ok = (id: string, returnValue: unknown) => ({
    id,
    success: true,
    returnValue,
    errorCode: null,
    errorMessage: null,
    executionTimeMs: 1,
    position: '7',
  });
  const failed = (id: string, errorCode: number, errorMessage: string) => ({
    id,
    success: false,
    returnValue: null,
    errorCode,
    errorMessage,
    executionTimeMs: 1,
  });
  const client = (o: Partial<Parameters<typeof AgentClient.connect>[0]> = {}) =>
    AgentClient.connect({ nc, agentId: 'a1', subjectPrefix: prefix, timeoutMs: 300, backoffMs: 5, ...o });

  it('sends {id, syscall, args} and returns the returnValue', async () => {
    script = (r) => ok(r.id, 5);
    const a = await client();
    expect(await a.write('/mem/working/x', 'hello', { mode: 'a' })).toBe(5);
    expect(seen[0]).toEqual({
      id: expect.any(String),
      syscall: 'SYS_WRITE',
      args: { path: '/mem/working/x', data: 'hello', mode: 'a' },
    });
  });

  it('throws typed errors carrying the code, request id and position', async () => {
    script = (r) => ({ ...failed(r.id, -2, "Policy 'SYS_WRITE' blocked: no"), position: '9' });
    const a = await client();
    const err = await a.write('/mem/working/x', 'y').catch((e) => e);
    expect(err).toBeInstanceOf(PolicyViolationError);
    expect(err).toBeInstanceOf(SyscallError);
    expect(err).toMatchObject({ code: -2, syscall: 'SYS_WRITE', requestId: seen[0].id, position: '9' });
    script = (r) => failed(r.id, 3, 'No such file: /x');
    await expect(a.read('/x')).rejects.toBeInstanceOf(VfsError);
    script = (r) => failed(r.id, -6, 'stopped');
    await expect(a.stat('/x')).rejects.toBeInstanceOf(AgentStoppedError);
    script = (r) => failed(r.id, -500, 'ValueError: bad');
    await expect(a.exec('t')).rejects.toMatchObject({ name: 'ToolFailedError', message: 'ValueError: bad' });
  });

  it('retries -7 with the same id until the kernel answers', async () => {
    script = (r, n) => (n < 3 ? failed(r.id, -7, 'unavailable') : ok(r.id, 'content'));
    const a = await client();
    expect(await a.read('/mem/working/x')).toBe('content');
    expect(seen).toHaveLength(3);
    expect(new Set(seen.map((s) => s.id)).size).toBe(1);
  });

  it('retries when no reply comes in time, with the same id', async () => {
    script = (r, n) => (n < 2 ? undefined : ok(r.id, true));
    const a = await client();
    expect(await a.signal('SIGUSR1')).toBe(true);
    expect(seen).toHaveLength(2);
    expect(seen[0].id).toBe(seen[1].id);
  });

  it('gives up with KernelUnavailableError after the retries, and when nobody listens', async () => {
    script = (r) => failed(r.id, -7, 'down');
    const a = await client({ retries: 2 });
    await expect(a.read('/x')).rejects.toBeInstanceOf(KernelUnavailableError);
    expect(seen).toHaveLength(3);
    const nobody = await AgentClient.connect({
      nc,
      agentId: 'nobody',
      subjectPrefix: prefix,
      timeoutMs: 200,
      retries: 1,
      backoffMs: 5,
    });
    await expect(nobody.read('/x')).rejects.toBeInstanceOf(KernelUnavailableError);
  });

  it('rejects an invalid agent id before sending anything', async () => {
    await expect(AgentClient.connect({ nc, agentId: 'bad id' })).rejects.toThrow(TypeError);
  });

  it('delivers signal notices until unsubscribed', async () => {
    const a = await client();
    const got: string[] = [];
    const off = a.onSignal((s) => got.push(s.signal));
    await nc.flush();
    nc.publish(
      `${prefix}.v1.signal.a1`,
      JSON.stringify({ signal: 'SIGUSR1', number: 6, source: 'x', reason: '', position: '1' }),
    );
    await nc.flush();
    await new Promise((r) => setTimeout(r, 50));
    off();
    nc.publish(
      `${prefix}.v1.signal.a1`,
      JSON.stringify({ signal: 'SIGUSR2', number: 7, source: 'x', reason: '', position: '2' }),
    );
    await new Promise((r) => setTimeout(r, 50));
    expect(got).toEqual(['SIGUSR1']);
  });
});

describe('serveTool and AdminClient', () => {
  const prefix = `tool${randomBytes(4).toString('hex')}`;
  let nc: NatsConnection;
  beforeAll(async () => {
    nc = await connect({ servers: 'nats://127.0.0.1:4222' });
  });
  afterAll(async () => {
    await nc.close();
  });

  it('answers ok/result, ok:false with the error class, and InvalidRequest for malformed calls', async () => {
    class QuotaError extends Error {}
    const tool = await serveTool({
      nc,
      subjectPrefix: prefix,
      name: 'calc',
      handler: (c) => {
        if (c.args.fail) throw new QuotaError('over quota');
        return { doubled: (c.args.n as number) * 2, by: c.agentId, callId: c.callId };
      },
    });
    const ask = async (body: string) => (await nc.request(`${prefix}.v1.tool.calc`, body, { timeout: 1000 })).json();
    expect(await ask(JSON.stringify({ agentId: 'a', args: { n: 21 }, callId: 'a:1' }))).toEqual({
      ok: true,
      result: { doubled: 42, by: 'a', callId: 'a:1' },
    });
    expect(await ask(JSON.stringify({ agentId: 'a', args: { fail: true }, callId: 'a:2' }))).toEqual({
      ok: false,
      error: { type: 'QuotaError', message: 'over quota' },
    });
    expect(await ask('nope')).toMatchObject({ ok: false, error: { type: 'InvalidRequest' } });
    await tool.stop();
  });

  it('maps admin error replies to AdminError with the code', async () => {
    const sub = nc.subscribe(`${prefix}.v1.admin.agents.get`, {
      callback: (_e, m) => void m.respond(JSON.stringify({ error: { code: 2, message: 'Agent x is not registered' } })),
    });
    const admin = await AdminClient.connect({ nc, subjectPrefix: prefix });
    const err = await admin.getAgent('x').catch((e) => e);
    expect(err).toBeInstanceOf(AdminError);
    expect(err).toMatchObject({ code: 2, message: 'Agent x is not registered' });
    sub.unsubscribe();
  });

  it('exports a ToolFailedError type for -500', () => {
    expect(new ToolFailedError(-500, 'x', 'SYS_EXEC', null).name).toBe('ToolFailedError');
  });
});
