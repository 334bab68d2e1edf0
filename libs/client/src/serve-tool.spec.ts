import { connect, type NatsConnection } from '@nats-io/transport-node';
import { randomBytes } from 'node:crypto';
import { AdminError } from './admin-error.js';
import { serveTool, type ServedTool } from './serve-tool.js';
import type { ToolCall } from './tool-call.js';

const NATS = 'nats://127.0.0.1:4222';

class QuotaError extends Error {}

/** The provider side of SYS_EXEC, called the way the kernel calls it, on this file's own subject prefix. */
describe('serveTool', () => {
  const prefix = `sdk-tool-${randomBytes(4).toString('hex')}`;
  let nc: NatsConnection;
  let served: ServedTool[] = [];

  const callTool = async (name: string, body: unknown, timeout = 1000) =>
    (
      await nc.request(`${prefix}.v1.tool.${name}`, typeof body === 'string' ? body : JSON.stringify(body), {
        timeout,
      })
    ).json<Record<string, unknown>>();
  const serve = async (o: Omit<Parameters<typeof serveTool>[0], 'subjectPrefix'>) => {
    const tool = await serveTool({ nc, subjectPrefix: prefix, ...o });
    served.push(tool);
    return tool;
  };

  beforeAll(async () => {
    nc = await connect({ servers: NATS });
  });
  afterEach(async () => {
    for (const t of served) await t.stop();
    served = [];
  });
  afterAll(async () => {
    await nc.close();
  });

  it('hands the handler the call and answers {ok: true, result}', async () => {
    const calls: ToolCall[] = [];
    await serve({
      name: 'double',
      handler: (call) => {
        calls.push(call);
        return { doubled: (call.args.n as number) * 2 };
      },
    });
    const body = { agentId: 'a1', args: { n: 21 }, inputPrompt: 'twice', callId: 'a1:req-1' };
    expect(await callTool('double', body)).toEqual({ ok: true, result: { doubled: 42 } });
    expect(calls).toEqual([body]);
  });

  it('awaits async handlers, and sends null for a handler that returns nothing', async () => {
    await serve({ name: 'slow', handler: async () => (await new Promise((r) => setTimeout(r, 20)), 'done') });
    await serve({ name: 'quiet', handler: () => undefined });
    expect(await callTool('slow', { agentId: 'a1', args: {}, callId: 'c1' })).toEqual({ ok: true, result: 'done' });
    expect(await callTool('quiet', { agentId: 'a1', callId: 'c2' })).toEqual({ ok: true, result: null });
  });

  it('answers a thrown error with its class name and message', async () => {
    await serve({
      name: 'strict',
      handler: ({ args }) => {
        if (args.kind === 'quota') throw new QuotaError('over quota');
        if (args.kind === 'type') throw new TypeError('n must be a number');
        if (args.kind === 'named') throw Object.assign(new Error('took too long'), { name: 'Timeout' });
        if (args.kind === 'async') return Promise.reject(new RangeError('too big'));
        throw 'a bare string';
      },
    });
    const failure = (kind: string) => callTool('strict', { agentId: 'a1', args: { kind }, callId: kind });
    expect(await failure('quota')).toEqual({ ok: false, error: { type: 'QuotaError', message: 'over quota' } });
    expect(await failure('type')).toEqual({ ok: false, error: { type: 'TypeError', message: 'n must be a number' } });
    expect(await failure('named')).toEqual({ ok: false, error: { type: 'Timeout', message: 'took too long' } });
    expect(await failure('async')).toEqual({ ok: false, error: { type: 'RangeError', message: 'too big' } });
    expect(await failure('bare')).toEqual({ ok: false, error: { type: 'Error', message: 'a bare string' } });
  });

  it('answers a result JSON cannot carry as a failure instead of crashing', async () => {
    await serve({ name: 'bigint', handler: () => ({ n: 10n }) });
    expect(await callTool('bigint', { agentId: 'a1', args: {}, callId: 'c' })).toEqual({
      ok: false,
      error: { type: 'TypeError', message: expect.stringMatching(/BigInt/) },
    });
  });

  it('answers malformed calls with InvalidRequest, without running the handler', async () => {
    let ran = 0;
    await serve({ name: 'guarded', handler: () => ++ran });
    for (const body of [
      'not json',
      '[1, 2]',
      '"a string"',
      { args: {}, callId: 'c' },
      { agentId: 'a1', args: {} },
      { agentId: 7, args: {}, callId: 'c' },
      { agentId: 'a1', args: [1], callId: 'c' },
      { agentId: 'a1', args: 'x', callId: 'c' },
      { agentId: 'a1', args: {}, inputPrompt: 3, callId: 'c' },
    ]) {
      expect(await callTool('guarded', body)).toEqual({
        ok: false,
        error: { type: 'InvalidRequest', message: expect.any(String) },
      });
    }
    expect(ran).toBe(0);
  });

  it('serves in a queue group: two providers of one tool answer each call once', async () => {
    const answeredBy: string[] = [];
    await serve({ name: 'shared', handler: () => answeredBy.push('one') });
    await serve({ name: 'shared', handler: () => answeredBy.push('two') });
    for (let i = 0; i < 20; i++) await callTool('shared', { agentId: 'a1', args: {}, callId: `c${i}` });
    expect(answeredBy).toHaveLength(20);
  });

  it('uses the given queue group', async () => {
    const answeredBy: string[] = [];
    await serve({ name: 'fanout', queue: 'group-a', handler: () => answeredBy.push('a') });
    await serve({ name: 'fanout', queue: 'group-b', handler: () => answeredBy.push('b') });
    await callTool('fanout', { agentId: 'a1', args: {}, callId: 'c' });
    await new Promise((r) => setTimeout(r, 50));
    expect(answeredBy.sort()).toEqual(['a', 'b']); // one member of each group
  });

  it('registers the tool through the admin subject once it is served', async () => {
    const registrations: unknown[] = [];
    const admin = nc.subscribe(`${prefix}.v1.admin.tools.register`, {
      callback: (_e, m) => {
        registrations.push(m.json());
        // By the time the kernel records the registration, the tool already answers.
        void callTool('announced', { agentId: 'kernel', args: {}, callId: 'probe' }).then(
          () => m.respond(JSON.stringify({ name: 'announced' })),
          () => m.respond(JSON.stringify({ error: { code: -4, message: 'registered before it was served' } })),
        );
      },
    });
    await nc.flush();
    await serve({ name: 'announced', register: { description: 'says hi' }, handler: () => 'hi' });
    expect(registrations).toEqual([{ name: 'announced', description: 'says hi' }]);
    admin.unsubscribe();
  });

  it('fails when registration fails, and then serves nothing', async () => {
    const admin = nc.subscribe(`${prefix}.v1.admin.tools.register`, {
      callback: (_e, m) => void m.respond(JSON.stringify({ error: { code: -5, message: 'name must match ...' } })),
    });
    await nc.flush();
    const err = await serveTool({ nc, subjectPrefix: prefix, name: 'refused', register: {}, handler: () => 1 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AdminError);
    expect(err).toMatchObject({ code: -5 });
    await expect(callTool('refused', { agentId: 'a1', args: {}, callId: 'c' })).rejects.toThrow(/no responders/);
    admin.unsubscribe();
  });

  it('stop() answers the calls in progress, then takes no more', async () => {
    const tool = await serveTool({
      nc,
      subjectPrefix: prefix,
      name: 'draining',
      handler: async () => (await new Promise((r) => setTimeout(r, 100)), 'finished'),
    });
    const inProgress = callTool('draining', { agentId: 'a1', args: {}, callId: 'c1' });
    await new Promise((r) => setTimeout(r, 20));
    await tool.stop();
    expect(await inProgress).toEqual({ ok: true, result: 'finished' });
    await expect(callTool('draining', { agentId: 'a1', args: {}, callId: 'c2' })).rejects.toThrow(/no responders/);
    expect(nc.isClosed()).toBe(false); // a shared connection stays open
  });

  it('opens and closes its own connection when given servers', async () => {
    const tool = await serveTool({ servers: NATS, subjectPrefix: prefix, name: 'own', handler: () => 'mine' });
    expect(await callTool('own', { agentId: 'a1', args: {}, callId: 'c' })).toEqual({ ok: true, result: 'mine' });
    await tool.stop();
    await expect(callTool('own', { agentId: 'a1', args: {}, callId: 'c' })).rejects.toThrow(/no responders/);
  });

  it('rejects a tool name that is not one subject token', async () => {
    for (const name of ['a.b', 'a b', '*', '>', '']) {
      await expect(serveTool({ nc, subjectPrefix: prefix, name, handler: () => 1 })).rejects.toThrow(TypeError);
    }
  });
});
