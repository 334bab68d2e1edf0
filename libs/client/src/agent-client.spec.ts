import { connect, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { randomBytes } from 'node:crypto';
import type { SignalNotice, SyscallReply } from '#contracts';
import { AgentClient, type AgentClientOptions } from './agent-client.js';
import {
  AgentNotRegisteredError,
  AgentStoppedError,
  AgentTerminatedError,
  InvalidRequestError,
  KernelHandlerError,
  KernelUnavailableError,
  MissingArgumentError,
  NoHandlerError,
  PolicyViolationError,
  SyscallError,
  ToolFailedError,
  ToolNotRegisteredError,
  VfsError,
} from './syscall-errors.js';

const NATS = 'nats://127.0.0.1:4222';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

interface WireRequest {
  id: string;
  syscall: string;
  args: Record<string, unknown>;
}

const ok = (id: string, returnValue: unknown): SyscallReply => ({
  id,
  success: true,
  returnValue,
  errorCode: null,
  errorMessage: null,
  executionTimeMs: 0.5,
  position: '42',
});
const failed = (id: string, errorCode: number, errorMessage: string, position?: string): SyscallReply => ({
  id,
  success: false,
  returnValue: null,
  errorCode,
  errorMessage,
  executionTimeMs: 0.5,
  ...(position ? { position } : {}),
});
const until = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Against the real NATS server, with a scripted kernel on a subject prefix of this file's own:
 * what the agent puts on the wire, and what it makes of the kernel's answers.
 */
describe('AgentClient', () => {
  const prefix = `sdk-agent-${randomBytes(4).toString('hex')}`;
  let nc: NatsConnection;
  /** Requests the kernel received, in order. */
  let seen: WireRequest[];
  /** The kernel's answer to the n-th request (1-based); undefined = stay silent. */
  let kernel: (req: WireRequest, n: number) => SyscallReply | undefined;

  const serveKernel = (agentId: string) =>
    nc.subscribe(`${prefix}.v1.syscall.${agentId}`, {
      callback: (_err, msg: Msg) => {
        const req = msg.json<WireRequest>();
        seen.push(req);
        const reply = kernel(req, seen.length);
        if (reply) msg.respond(JSON.stringify(reply));
      },
    });

  const agent = (o: Partial<AgentClientOptions> = {}) =>
    AgentClient.connect({
      servers: NATS,
      nc,
      agentId: 'a1',
      subjectPrefix: prefix,
      timeoutMs: 300,
      backoffMs: 5,
      ...o,
    });

  beforeAll(async () => {
    nc = await connect({ servers: NATS });
    serveKernel('a1');
    await nc.flush();
  });
  beforeEach(() => {
    seen = [];
    kernel = (r) => ok(r.id, null);
  });
  afterAll(async () => {
    await nc.close();
  });

  describe('on the wire', () => {
    it('sends {id, syscall, args} with a fresh UUID per call and returns the returnValue', async () => {
      kernel = (r) => ok(r.id, 5);
      const a = await agent();
      expect(await a.write('/mem/working/notes.md', 'hello', { mode: 'a' })).toBe(5);
      expect(await a.write('/mem/working/notes.md', 'hello')).toBe(5);
      expect(seen[0]).toEqual({
        id: expect.stringMatching(UUID),
        syscall: 'SYS_WRITE',
        args: { path: '/mem/working/notes.md', data: 'hello', mode: 'a' },
      });
      expect(seen[1].args).toEqual({ path: '/mem/working/notes.md', data: 'hello' });
      expect(seen[1].id).not.toBe(seen[0].id);
    });

    it.each<[string, (a: AgentClient) => Promise<unknown>, string, Record<string, unknown>]>([
      ['read', (a) => a.read('/mem/working/x'), 'SYS_READ', { path: '/mem/working/x' }],
      [
        'read base64',
        (a) => a.read('/state/raw', { encoding: 'base64' }),
        'SYS_READ',
        { path: '/state/raw', encoding: 'base64' },
      ],
      [
        'write base64',
        (a) => a.write('/state/raw', '/w==', { encoding: 'base64' }),
        'SYS_WRITE',
        { path: '/state/raw', data: '/w==', encoding: 'base64' },
      ],
      ['open', (a) => a.open('/mem/working/x'), 'SYS_OPEN', { path: '/mem/working/x', mode: 'r' }],
      ['open for append', (a) => a.open('/mem/working/x', 'a'), 'SYS_OPEN', { path: '/mem/working/x', mode: 'a' }],
      ['close(fd)', (a) => a.close(3), 'SYS_CLOSE', { fd: 3 }],
      ['stat', (a) => a.stat('/mem/working'), 'SYS_STAT', { path: '/mem/working' }],
      ['exec', (a) => a.exec('word_count'), 'SYS_EXEC', { tool: 'word_count', args: {} }],
      [
        'exec with a prompt',
        (a) => a.exec('summarize', { text: 'x' }, { inputPrompt: 'be brief' }),
        'SYS_EXEC',
        { tool: 'summarize', args: { text: 'x' }, inputPrompt: 'be brief' },
      ],
      ['signal self', (a) => a.signal('SIGUSR1'), 'SYS_SIGNAL', { signal: 'SIGUSR1' }],
      [
        'signal another agent',
        (a) => a.signal(4, { target: 'a2', reason: 'runaway' }),
        'SYS_SIGNAL',
        { signal: 4, target: 'a2', reason: 'runaway' },
      ],
      ['sigaction', (a) => a.sigaction('SIGUSR2', 'handle'), 'SYS_SIGACTION', { signal: 'SIGUSR2', action: 'handle' }],
      [
        'sigprocmask',
        (a) => a.sigprocmask('block', ['SIGINT', 3]),
        'SYS_SIGPROCMASK',
        { how: 'block', signals: ['SIGINT', 3] },
      ],
      ['checkPolicy', (a) => a.checkPolicy('file_write'), 'SYS_CHECKPOLICY', { action: 'file_write' }],
      [
        'checkPolicy with target and args',
        (a) => a.checkPolicy('refund', { target: 'crm', args: { amount: 10 } }),
        'SYS_CHECKPOLICY',
        { action: 'refund', target: 'crm', args: { amount: 10 } },
      ],
      ['getPolicy', (a) => a.getPolicy(), 'SYS_GETPOLICY', {}],
      ['getPolicy for an action', (a) => a.getPolicy('file_read'), 'SYS_GETPOLICY', { action: 'file_read' }],
      ['exit', (a) => a.exit(), 'SYS_EXIT', { code: 0 }],
      ['exit with a code', (a) => a.exit(3), 'SYS_EXIT', { code: 3 }],
    ])('%s', async (_label, call, syscall, args) => {
      const a = await agent();
      await call(a);
      expect(seen).toEqual([{ id: expect.stringMatching(UUID), syscall, args }]);
    });

    it('syscall() uses the given id and returns failed replies without throwing', async () => {
      kernel = (r) => failed(r.id, -3, 'No handler for SYS_MMAP', '77');
      const a = await agent();
      const reply = await a.syscall('SYS_MMAP', { length: 4096 }, { id: 'my-key-1' });
      expect(seen).toEqual([{ id: 'my-key-1', syscall: 'SYS_MMAP', args: { length: 4096 } }]);
      expect(reply).toEqual(failed('my-key-1', -3, 'No handler for SYS_MMAP', '77'));
    });

    it('returns structured return values as the kernel sent them', async () => {
      const stat = { path: '/mem/working/x', type: 'file', size: 5, contentHash: 'abc', modified: '2025-01-01' };
      kernel = (r) => ok(r.id, stat);
      const a = await agent();
      expect(await a.stat('/mem/working/x')).toEqual(stat);
    });
  });

  describe('typed errors', () => {
    it.each<[number, typeof SyscallError]>([
      [-1, AgentTerminatedError],
      [-2, PolicyViolationError],
      [-3, NoHandlerError],
      [-4, KernelHandlerError],
      [-5, InvalidRequestError],
      [-6, AgentStoppedError],
      [1, MissingArgumentError],
      [2, AgentNotRegisteredError],
      [3, VfsError],
      [-404, ToolNotRegisteredError],
      [-500, ToolFailedError],
      [99, SyscallError],
    ])('code %i throws %p with the code, syscall, request id, position and message', async (code, ErrorType) => {
      kernel = (r) => failed(r.id, code, `failure ${code}`, '9');
      const a = await agent();
      const err = await a.read('/mem/working/x').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ErrorType);
      expect(err).toBeInstanceOf(SyscallError);
      expect(err).toMatchObject({
        name: ErrorType.name,
        code,
        syscall: 'SYS_READ',
        requestId: seen[0].id,
        position: '9',
        message: `failure ${code}`,
      });
      expect(seen).toHaveLength(1); // only -7 is retried
    });

    it('does not retry other failures, such as a policy violation', async () => {
      kernel = (r) => failed(r.id, -2, "Policy 'SYS_WRITE' blocked: secrets are read-only");
      const a = await agent();
      const err = await a.write('/mem/working/secrets/k', 'x').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PolicyViolationError);
      expect((err as PolicyViolationError).reason).toBe('secrets are read-only');
      expect(seen).toHaveLength(1);
    });
  });

  describe('retries', () => {
    it('retries -7 with the same id until the kernel answers', async () => {
      kernel = (r, n) => (n < 3 ? failed(r.id, -7, 'event log unavailable') : ok(r.id, 'content'));
      const a = await agent();
      expect(await a.read('/mem/working/x')).toBe('content');
      expect(seen).toHaveLength(3);
      expect(new Set(seen.map((s) => s.id)).size).toBe(1);
      expect(new Set(seen.map((s) => JSON.stringify(s))).size).toBe(1);
    });

    it('retries a request the kernel did not answer in time, with the same id', async () => {
      kernel = (r, n) => (n < 2 ? undefined : ok(r.id, true));
      const a = await agent({ timeoutMs: 150 });
      expect(await a.signal('SIGUSR1')).toBe(true);
      expect(seen).toHaveLength(2);
      expect(seen[1].id).toBe(seen[0].id);
    });

    it('retries when nobody serves the subject yet (no responders)', async () => {
      const failures: unknown[] = [];
      // The connection as the client sees it: the kernel starts right after the first attempt failed.
      const watched = new Proxy(nc, {
        get(target, prop, receiver) {
          if (prop !== 'request') return Reflect.get(target, prop, receiver);
          return (...a: Parameters<NatsConnection['request']>) =>
            target.request(...a).catch(async (err: unknown) => {
              failures.push(err);
              serveKernel('late');
              await nc.flush();
              throw err;
            });
        },
      });
      kernel = (r) => ok(r.id, 'finally');
      const a = await agent({ nc: watched, agentId: 'late' });
      expect(await a.read('/mem/working/x')).toBe('finally');
      expect(failures).toHaveLength(1);
      expect(String(failures[0])).toMatch(/no responders/);
      expect(seen).toHaveLength(1);
    });

    it('gives up after the retries with KernelUnavailableError, returning the kernel -7 from syscall()', async () => {
      kernel = (r) => failed(r.id, -7, 'event log unavailable');
      const a = await agent({ retries: 2 });
      const err = await a.read('/x').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(KernelUnavailableError);
      expect(err).toMatchObject({ code: -7, message: 'event log unavailable', requestId: seen[0].id });
      expect(seen).toHaveLength(3);
      expect(new Set(seen.map((s) => s.id)).size).toBe(1);

      seen = [];
      const reply = await a.syscall('SYS_READ', { path: '/x' }, { id: 'k-7' });
      expect(reply).toMatchObject({ id: 'k-7', success: false, errorCode: -7 });
      expect(seen).toHaveLength(3);
    });

    it('gives up with KernelUnavailableError when no kernel ever answers', async () => {
      const a = await agent({ agentId: 'nobody-home', retries: 2 });
      const err = await a.stat('/x').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(KernelUnavailableError);
      expect((err as KernelUnavailableError).message).toMatch(/unreachable after 3 attempt\(s\).*no responders/);
      const reply = await a.syscall('SYS_STAT', { path: '/x' }, { id: 'same-id' });
      expect(reply).toMatchObject({ id: 'same-id', success: false, returnValue: null, errorCode: -7 });
    });

    it('with retries: 0 makes exactly one attempt', async () => {
      kernel = (r) => failed(r.id, -7, 'down');
      const a = await agent({ retries: 0 });
      await expect(a.read('/x')).rejects.toBeInstanceOf(KernelUnavailableError);
      expect(seen).toHaveLength(1);
    });
  });

  describe('signals', () => {
    const notice = (signal: string, number: number, position: string): SignalNotice => ({
      signal,
      number,
      source: 'operator',
      reason: 'test',
      position,
      outcome: 'default',
      state: 'running',
    });
    const publish = async (n: SignalNotice | string) => {
      nc.publish(`${prefix}.v1.signal.a1`, typeof n === 'string' ? n : JSON.stringify(n));
      await nc.flush();
      await until(50);
    };

    it('delivers the notices published for this agent until unsubscribed', async () => {
      const a = await agent();
      const got: SignalNotice[] = [];
      const off = a.onSignal((n) => got.push(n));
      await nc.flush();
      await publish(notice('SIGUSR1', 6, '1'));
      nc.publish(`${prefix}.v1.signal.a2`, JSON.stringify(notice('SIGKILL', 4, '2'))); // someone else's
      await publish('not json');
      await publish(notice('SIGSTOP', 1, '3'));
      off();
      await publish(notice('SIGCONT', 2, '4'));
      expect(got).toEqual([notice('SIGUSR1', 6, '1'), notice('SIGSTOP', 1, '3')]);
    });

    it('keeps delivering after a handler throws, and reports the failure as a process warning', async () => {
      const a = await agent();
      const got: string[] = [];
      const warnings: unknown[][] = [];
      const emitWarning = process.emitWarning;
      process.emitWarning = ((...w: unknown[]) => void warnings.push(w)) as typeof process.emitWarning;
      try {
        a.onSignal((n) => {
          got.push(n.signal);
          throw new Error('handler bug');
        });
        await nc.flush();
        await publish(notice('SIGUSR1', 6, '1'));
        await publish(notice('SIGUSR2', 7, '2'));
      } finally {
        process.emitWarning = emitWarning;
        await a.close();
      }
      expect(got).toEqual(['SIGUSR1', 'SIGUSR2']);
      expect(warnings).toEqual([
        [expect.stringContaining('handler bug'), 'AgentClientWarning'],
        [expect.stringContaining('handler bug'), 'AgentClientWarning'],
      ]);
    });

    it('close() without a descriptor stops the listeners but leaves a shared connection open', async () => {
      const a = await agent();
      const got: string[] = [];
      a.onSignal((n) => got.push(n.signal));
      await nc.flush();
      await a.close();
      await publish(notice('SIGUSR1', 6, '1'));
      expect(got).toEqual([]);
      expect(seen).toEqual([]); // close() is not SYS_CLOSE
      expect(nc.isClosed()).toBe(false);
    });
  });

  describe('connection', () => {
    it('rejects an invalid agent id or options before connecting', async () => {
      for (const agentId of ['bad id', '', 'a.b', 'x'.repeat(129), 'a*']) {
        await expect(AgentClient.connect({ servers: NATS, agentId })).rejects.toThrow(TypeError);
      }
      await expect(agent({ retries: -1 })).rejects.toThrow(RangeError);
      await expect(agent({ timeoutMs: 0 })).rejects.toThrow(RangeError);
    });

    it('opens its own connection from servers, and close() drains it', async () => {
      kernel = (r) => ok(r.id, 'own');
      const a = await AgentClient.connect({
        servers: [NATS],
        agentId: 'a1',
        subjectPrefix: prefix,
        timeoutMs: 1000,
      });
      expect(await a.read('/mem/working/x')).toBe('own');
      await a.close();
      await expect(a.read('/mem/working/x')).rejects.toThrow(/closed/);
      expect(seen).toHaveLength(1);
    });
  });
});
