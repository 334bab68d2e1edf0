import type { Subscription } from '@nats-io/transport-node';
import { Subjects, type SyscallReply } from '#contracts';
import type { RecordedEvent } from '#event-store';
import { agentPositionPattern, readAllFrom } from '../support/positions.js';
import { startTestStack, type TestStack } from '../support/test-stack.js';

/** SYS_EXEC through tool providers on `agentos.v1.tool.<name>`, and a kernel surviving a broken VFS (-4). */
describe('tools over real NATS', () => {
  let t: TestStack;
  const subs: Subscription[] = [];
  const calls: Record<string, unknown>[] = [];
  const exec = (args: Record<string, unknown>, id?: string) =>
    t.request<SyscallReply>(Subjects.syscall('toolie'), { ...(id ? { id } : {}), syscall: 'SYS_EXEC', args });

  beforeAll(async () => {
    t = await startTestStack({ services: ['recorder', 'vfs', 'kernel'], env: { AGENTOS_TOOL_TIMEOUT_MS: '1000' } });
    await t.request(Subjects.adminAgentsCreate, { agentId: 'toolie' });
    const serve = (name: string, answer: (body: Record<string, unknown>) => unknown) => {
      subs.push(
        t.nc.subscribe(t.subject(Subjects.tool(name)), {
          queue: `tool.${name}`,
          callback: (_e, m) => {
            const body = m.json<Record<string, unknown>>();
            calls.push({ tool: name, ...body });
            const a = answer(body);
            if (a !== undefined) m.respond(typeof a === 'string' ? a : JSON.stringify(a));
          },
        }),
      );
    };
    serve('adder', (b) => ({
      ok: true,
      result: { sum: ((b.args as any).a as number) + ((b.args as any).b as number) },
    }));
    serve('failing', () => ({ ok: false, error: { type: 'ValueError', message: 'bad input' } }));
    serve('silent', () => undefined);
    serve('garbled', () => 'not json');
    for (const name of ['adder', 'failing', 'silent', 'garbled', 'absent']) {
      expect(await t.request(Subjects.adminToolsRegister, { name, description: `the ${name} tool` })).toEqual({ name });
    }
  });
  afterAll(async () => {
    for (const s of subs) s.unsubscribe();
    await t.close();
  });

  it('calls the provider with agentId, args, inputPrompt and a stable callId, and records the result', async () => {
    const r = await exec({ tool: 'adder', args: { a: 2, b: 3 }, inputPrompt: 'add them' }, 'exec-1');
    expect(r).toMatchObject({ success: true, returnValue: { sum: 5 } });
    expect(calls.at(-1)).toEqual({
      tool: 'adder',
      agentId: 'toolie',
      args: { a: 2, b: 3 },
      inputPrompt: 'add them',
      callId: 'toolie:exec-1',
    });
    const ev = await t.request<{ events: RecordedEvent[] }>(Subjects.recorderReadAll, {
      ...readAllFrom(r.position),
      limit: 1,
    });
    expect((ev.events[0].data as any).result).toEqual({
      success: true,
      returnValue: { sum: 5 },
      errorCode: null,
      errorMessage: null,
    });
    expect((ev.events[0].data as any).decision.action).toBe('adder');
  });

  it('never runs a tool twice for a retried id', async () => {
    const before = calls.length;
    const first = await exec({ tool: 'adder', args: { a: 1, b: 1 } }, 'exec-retry');
    const again = await exec({ tool: 'adder', args: { a: 1, b: 1 } }, 'exec-retry');
    expect(again).toEqual(first);
    expect(calls.length - before).toBe(1);
  });

  it('answers -404 for an unregistered tool and -500 for failing, silent, garbled and absent providers', async () => {
    expect(await exec({ tool: 'unknown_tool' })).toMatchObject({
      errorCode: -404,
      errorMessage: "Tool 'unknown_tool' not registered in kernel",
    });
    expect(await exec({ tool: 'failing' })).toMatchObject({ errorCode: -500, errorMessage: 'ValueError: bad input' });
    expect(await exec({ tool: 'silent' })).toMatchObject({
      errorCode: -500,
      errorMessage: expect.stringMatching(/^TimeoutError: /),
    });
    expect(await exec({ tool: 'garbled' })).toMatchObject({
      errorCode: -500,
      errorMessage: expect.stringMatching(/^ProtocolError: /),
    });
    expect(await exec({ tool: 'absent' })).toMatchObject({
      errorCode: -500,
      errorMessage: expect.stringMatching(/^ToolUnavailable: /),
    });
    expect(await exec({})).toMatchObject({ errorCode: 1 });
    expect(await exec({ tool: 'adder', args: [1, 2] })).toMatchObject({ errorCode: -5 });
  });

  it('lists registered tools', async () => {
    const l = await t.request<{ tools: { name: string }[] }>(Subjects.adminToolsList, {});
    expect(l.tools.map((x) => x.name).sort()).toEqual(['absent', 'adder', 'failing', 'garbled', 'silent']);
  });
});

describe('a kernel with a broken dependency', () => {
  it('records -4 when the VFS answers nonsense, and keeps serving', async () => {
    const t = await startTestStack({ services: ['recorder', 'kernel'] });
    try {
      const fake = t.nc.subscribe(t.subject(Subjects.vfsExecute), {
        queue: 'vfs',
        callback: (_e, m) => void m.respond('{"weird":true}'),
      });
      await t.request(Subjects.adminAgentsCreate, { agentId: 'crashy' });
      const r = await t.request<SyscallReply>(Subjects.syscall('crashy'), {
        syscall: 'SYS_READ',
        args: { path: '/mem/working/a' },
      });
      expect(r).toMatchObject({ success: false, errorCode: -4, errorMessage: 'VFS replied without a result' });
      expect(r.position).toMatch(agentPositionPattern('crashy'));
      fake.unsubscribe();
      expect(await t.request<SyscallReply>(Subjects.syscall('crashy'), { syscall: 'SYS_GETPOLICY' })).toMatchObject({
        success: true,
      });
      expect((await t.request<any>(Subjects.adminKernelMetrics, {})).agentCrashes).toBe(1);
      // no VFS at all: nothing is recorded, -7, retry later
      const down = await t.request<SyscallReply>(Subjects.syscall('crashy'), {
        syscall: 'SYS_READ',
        args: { path: '/mem/working/a' },
      });
      expect(down).toMatchObject({ errorCode: -7 });
      expect(down.position).toBeUndefined();
    } finally {
      await t.close();
    }
  });
});
