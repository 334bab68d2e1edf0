import type { Subscription } from '@nats-io/transport-node';
import { Subjects, type SignalNotice, type SyscallReply } from '#contracts';
import type { RecordedEvent } from '#event-store';
import { agentPositionPattern, readAllFrom } from '../support/positions.js';
import { startTestStack, type TestStack } from '../support/test-stack.js';
import { waitFor } from '../support/wait-for.js';

/**
 * The wire protocol through a plain NATS client (no SDK, no NestJS envelope): every syscall of
 * PROTOCOL.md and every error code, against the real kernel, VFS and recorder processes.
 */
describe('kernel protocol over raw NATS', () => {
  let t: TestStack;
  let n = 0;
  const sys = (agentId: string, syscall: string, args: Record<string, unknown> = {}, id?: string) =>
    t.request<SyscallReply>(Subjects.syscall(agentId), { id: id ?? `r${++n}`, syscall, args });
  const admin = <T = Record<string, any>>(subject: string, body: unknown) => t.request<T>(subject, body);

  beforeAll(async () => {
    t = await startTestStack({ services: ['recorder', 'vfs', 'kernel'], env: { AGENTOS_TOOL_TIMEOUT_MS: '1500' } });
    for (const a of ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'gina']) {
      expect(await admin(Subjects.adminAgentsCreate, { agentId: a, role: 'worker' })).toEqual({
        agentId: a,
        role: 'worker',
        state: 'running',
      });
    }
  });
  afterAll(async () => {
    await t.close();
  });

  describe('admin', () => {
    it('refuses to create an existing agent and rejects bad ids', async () => {
      expect(await admin(Subjects.adminAgentsCreate, { agentId: 'alice' })).toMatchObject({ error: { code: -5 } });
      expect(await admin(Subjects.adminAgentsCreate, { agentId: 'bad id!' })).toMatchObject({ error: { code: -5 } });
      expect(await admin(Subjects.adminAgentsGet, { agentId: 'nobody' })).toMatchObject({ error: { code: 2 } });
    });

    it('returns the agent with role, state and version', async () => {
      const a = await admin(Subjects.adminAgentsGet, { agentId: 'alice' });
      expect(a).toMatchObject({ agentId: 'alice', role: 'worker', state: 'running', version: 1 });
      expect(a.digest).toMatch(/^[0-9a-f]{64}$/);
    });
  });

  describe('files', () => {
    it('writes, reads, appends and stats a file; replies carry the committed position', async () => {
      const w = await sys('alice', 'SYS_WRITE', { path: '/mem/working/notes.txt', data: 'hello' });
      expect(w).toMatchObject({ success: true, returnValue: 5, errorCode: null, errorMessage: null });
      expect(w.position).toMatch(agentPositionPattern('alice'));
      expect(typeof w.executionTimeMs).toBe('number');
      expect(
        await sys('alice', 'SYS_WRITE', { path: '/mem/working/notes.txt', data: ' world', mode: 'a' }),
      ).toMatchObject({ returnValue: 6 });
      expect(await sys('alice', 'SYS_READ', { path: '/mem/working/notes.txt' })).toMatchObject({
        success: true,
        returnValue: 'hello world',
      });
      const stat = await sys('alice', 'SYS_STAT', { path: '/mem/working/notes.txt' });
      expect(stat.returnValue).toMatchObject({ path: '/mem/working/notes.txt', type: 'file', size: 11 });
      expect((stat.returnValue as any).contentHash).toMatch(/^[0-9a-f]{16}$/);
      expect((await sys('alice', 'SYS_STAT', { path: '/mem/working' })).returnValue).toMatchObject({
        type: 'directory',
      });
      // the event is in the log at the replied position
      const read = await t.request<{ events: RecordedEvent[] }>(Subjects.recorderReadAll, {
        ...readAllFrom(w.position),
        limit: 1,
      });
      expect(read.events[0]).toMatchObject({ streamId: 'agent:alice', type: 'SyscallRecorded' });
      expect((read.events[0].data as any).decision).toMatchObject({
        allowed: true,
        mode: 'permissive',
        policyVersion: null,
      });
    });

    it('keeps binary data exact with base64', async () => {
      const bytes = Buffer.from([0, 1, 2, 250, 255, 10]);
      expect(
        await sys('alice', 'SYS_WRITE', {
          path: '/state/blob.bin',
          data: bytes.toString('base64'),
          encoding: 'base64',
        }),
      ).toMatchObject({
        returnValue: 6,
      });
      const r = await sys('alice', 'SYS_READ', { path: '/state/blob.bin', encoding: 'base64' });
      expect(Buffer.from(r.returnValue as string, 'base64')).toEqual(bytes);
    });

    it('opens and closes descriptors that are unique per agent', async () => {
      const fd1 = await sys('bob', 'SYS_OPEN', { path: '/mem/episodic/a.txt' });
      const fd2 = await sys('bob', 'SYS_OPEN', { path: '/mem/episodic/b.txt', mode: 'w' });
      const fd3 = await sys('bob', 'SYS_OPEN', { path: '/mem/episodic/a.txt', mode: 'a' });
      expect([fd1.returnValue, fd2.returnValue, fd3.returnValue]).toEqual([1, 2, 3]);
      expect(await sys('bob', 'SYS_CLOSE', { fd: 2 })).toMatchObject({ success: true, returnValue: null });
      expect((await sys('bob', 'SYS_OPEN', { path: '/ipc/x' })).returnValue).toBe(4);
      expect(await sys('bob', 'SYS_CLOSE', { fd: 2 })).toMatchObject({ success: false, errorCode: 3 });
      expect(await sys('bob', 'SYS_CLOSE', { fd: 99 })).toMatchObject({ success: false, errorCode: 3 });
      expect(await sys('bob', 'SYS_CLOSE', {})).toMatchObject({ success: false, errorCode: 1 });
      expect(await sys('bob', 'SYS_OPEN', { path: '/mem/episodic/a.txt', mode: 'rw' })).toMatchObject({
        errorCode: -5,
      });
    });

    it('confines paths and protects /policy with code 3', async () => {
      for (const path of [
        '/mem/working/../../policy/x',
        '/mem/workingX/a',
        '//mem/working/a',
        '/mem/working/a\u0000b',
        '/etc/passwd',
        'relative.txt',
      ]) {
        expect(await sys('alice', 'SYS_WRITE', { path, data: 'x' })).toMatchObject({ success: false, errorCode: 3 });
      }
      expect(await sys('alice', 'SYS_WRITE', { path: '/policy/rules.yaml', data: 'x' })).toMatchObject({
        errorCode: 3,
      });
      expect(await sys('alice', 'SYS_OPEN', { path: '/policy/rules.yaml', mode: 'w' })).toMatchObject({ errorCode: 3 });
      expect(await sys('alice', 'SYS_READ', { path: '/mem/working/missing.txt' })).toMatchObject({ errorCode: 3 });
      expect(await sys('alice', 'SYS_STAT', { path: '/mem/working/missing.txt' })).toMatchObject({ errorCode: 3 });
    });

    it('answers missing and mistyped arguments with 1 and -5', async () => {
      expect(await sys('alice', 'SYS_WRITE', { path: '/mem/working/a' })).toMatchObject({ errorCode: 1 });
      expect(await sys('alice', 'SYS_READ', {})).toMatchObject({ errorCode: 1 });
      expect(await sys('alice', 'SYS_WRITE', { path: '/mem/working/a', data: 42 })).toMatchObject({ errorCode: -5 });
      expect(
        await sys('alice', 'SYS_WRITE', { path: '/mem/working/a', data: '%%%', encoding: 'base64' }),
      ).toMatchObject({ errorCode: -5 });
      expect(await sys('alice', 'SYS_WRITE', { path: '/mem/working/a', data: 'x', mode: 'x' })).toMatchObject({
        errorCode: -5,
      });
    });
  });

  describe('malformed requests', () => {
    it('answers every malformed request with -5 and stays up', async () => {
      const subject = Subjects.syscall('alice');
      expect(await t.requestRaw(subject, 'not json')).toMatchObject({ success: false, errorCode: -5, id: null });
      expect(await t.requestRaw(subject, '[1]')).toMatchObject({ errorCode: -5 });
      expect(await t.requestRaw(subject, '"str"')).toMatchObject({ errorCode: -5 });
      expect(await sys('alice', 'SYS_NOPE')).toMatchObject({ errorCode: -5 });
      expect(await t.request(subject, { syscall: 'SYS_READ', args: 'path' })).toMatchObject({ errorCode: -5 });
      expect(await t.request(subject, { id: '', syscall: 'SYS_READ', args: {} })).toMatchObject({ errorCode: -5 });
      expect(await t.request(subject, { id: 'x'.repeat(129), syscall: 'SYS_READ', args: {} })).toMatchObject({
        errorCode: -5,
      });
      expect(await t.request(subject, { id: 7, syscall: 'SYS_READ' })).toMatchObject({ errorCode: -5 });
      expect(
        await t.requestRaw(
          subject,
          JSON.stringify({ syscall: 'SYS_WRITE', args: { path: '/mem/working/big', data: 'x'.repeat(300 * 1024) } }),
        ),
      ).toMatchObject({
        errorCode: -5,
      });
      const deep = JSON.parse('{"a":'.repeat(40) + '1' + '}'.repeat(40));
      expect(await t.request(subject, { syscall: 'SYS_CHECKPOLICY', args: deep })).toMatchObject({ errorCode: -5 });
      expect(await sys('alice', 'SYS_READ', { path: '/mem/working/notes.txt' })).toMatchObject({ success: true });
    });

    it('records malformed syscalls of registered agents, without a reply position for unparseable bodies', async () => {
      const r = await sys('alice', 'SYS_NOPE', {}, 'malformed-1');
      expect(r.position).toMatch(agentPositionPattern('alice'));
      expect((await t.requestRaw(Subjects.syscall('alice'), '{bad')).position).toBeUndefined();
    });

    it('never takes the identity from the body: the subject decides', async () => {
      const r = await t.request<SyscallReply>(Subjects.syscall('alice'), {
        agentId: 'bob',
        syscall: 'SYS_WRITE',
        args: { path: '/mem/working/whose', data: 'alice' },
      });
      expect(r.success).toBe(true);
      const events = await t.request<{ events: RecordedEvent[] }>(Subjects.recorderReadAll, {
        ...readAllFrom(r.position),
        limit: 1,
      });
      expect(events.events[0].streamId).toBe('agent:alice');
      expect(await sys('bob', 'SYS_READ', { path: '/mem/working/whose' })).toMatchObject({ errorCode: 3 });
    });

    it('answers unknown agents with 2 and records nothing', async () => {
      const r = await sys('ghost', 'SYS_READ', { path: '/mem/working/a' });
      expect(r).toMatchObject({ success: false, errorCode: 2 });
      expect(r.position).toBeUndefined();
    });
  });

  describe('syscalls without handlers and policy queries', () => {
    it('answers -3 for syscalls that exist but have no handler', async () => {
      for (const s of [
        'SYS_FORK',
        'SYS_WAIT',
        'SYS_MMAP',
        'SYS_MUNMAP',
        'SYS_BRK',
        'SYS_PIPE',
        'SYS_SEND',
        'SYS_RECV',
      ]) {
        expect(await sys('carol', s)).toMatchObject({
          success: false,
          errorCode: -3,
          errorMessage: `Unknown syscall: ${s}`,
        });
      }
    });

    it('checks and shows policy (permissive until a policy is applied)', async () => {
      expect(
        await sys('carol', 'SYS_CHECKPOLICY', { action: 'file_write', args: { path: '/mem/working/x' } }),
      ).toMatchObject({
        success: true,
        returnValue: { allowed: true, action: 'file_write', agentId: 'carol' },
      });
      expect(await sys('carol', 'SYS_CHECKPOLICY', {})).toMatchObject({ errorCode: 1 });
      expect(await sys('carol', 'SYS_GETPOLICY', {})).toMatchObject({
        success: true,
        returnValue: { policyVersion: null, mode: 'permissive', rules: [] },
      });
    });
  });

  describe('signals', () => {
    let sub: Subscription;
    const notices: SignalNotice[] = [];
    beforeAll(() => {
      sub = t.nc.subscribe(t.subject(Subjects.signal('dave')), {
        callback: (_e, m) => void notices.push(m.json<SignalNotice>()),
      });
    });
    afterAll(() => sub.unsubscribe());

    it('delivers signals, publishes them, and stops and resumes an agent', async () => {
      expect(await sys('dave', 'SYS_SIGNAL', { signal: 'SIGUSR1', reason: 'ping' })).toMatchObject({
        success: true,
        returnValue: true,
      });
      expect(await admin(Subjects.adminAgentsSignal, { agentId: 'dave', signal: 'SIGSTOP', reason: 'pause' })).toEqual({
        delivered: true,
        state: 'stopped',
      });
      expect(await sys('dave', 'SYS_READ', { path: '/mem/working/a' })).toMatchObject({
        success: false,
        errorCode: -6,
      });
      expect(await sys('erin', 'SYS_SIGNAL', { target: 'dave', signal: 2 })).toMatchObject({
        success: true,
        returnValue: true,
      });
      // erin and dave may live in different partitions: then the SIGCONT reaches dave through the
      // relay, just after erin's reply
      await waitFor(
        async () => (await admin(Subjects.adminAgentsGet, { agentId: 'dave' })).state === 'running',
        10_000,
        'dave to be resumed by SIGCONT',
      );
      await waitFor(() => notices.length >= 3, 10_000, 'three signal notices for dave');
      await new Promise((r) => setTimeout(r, 200));
      expect(notices.map((x) => [x.signal, x.number, x.source])).toEqual([
        ['SIGUSR1', 6, 'dave'],
        ['SIGSTOP', 1, 'admin'],
        ['SIGCONT', 2, 'erin'],
      ]);
      expect(notices[0]).toMatchObject({ reason: 'ping', outcome: 'default' });
      expect(notices[0].position).toMatch(agentPositionPattern('dave'));
    });

    it('blocks, queues and releases maskable signals; refuses to mask SIGKILL and SIGPOLICY', async () => {
      expect(await sys('dave', 'SYS_SIGPROCMASK', { how: 'block', signals: ['SIGSTOP'] })).toMatchObject({
        success: true,
        returnValue: { blocked: ['SIGSTOP'], delivered: [] },
      });
      expect(await admin(Subjects.adminAgentsSignal, { agentId: 'dave', signal: 'SIGSTOP' })).toEqual({
        delivered: true,
        state: 'running',
      });
      expect((await admin(Subjects.adminAgentsGet, { agentId: 'dave' })).pendingSignals).toEqual([
        { signal: 'SIGSTOP', source: 'admin', reason: '' },
      ]);
      expect(await sys('dave', 'SYS_SIGPROCMASK', { how: 'block', signals: ['SIGKILL'] })).toMatchObject({
        errorCode: -5,
      });
      expect(await sys('dave', 'SYS_SIGPROCMASK', { how: 'block', signals: [8] })).toMatchObject({ errorCode: -5 });
      expect(await sys('dave', 'SYS_SIGPROCMASK', { how: 'unblock', signals: ['SIGSTOP'] })).toMatchObject({
        returnValue: { blocked: [], delivered: ['SIGSTOP'] },
      });
      expect((await admin(Subjects.adminAgentsGet, { agentId: 'dave' })).state).toBe('stopped');
      await admin(Subjects.adminAgentsSignal, { agentId: 'dave', signal: 'SIGCONT' });
    });

    it('sets dispositions, but SIGKILL and SIGPOLICY cannot be ignored or handled', async () => {
      expect(await sys('dave', 'SYS_SIGACTION', { signal: 'SIGINT', action: 'ignore' })).toMatchObject({
        returnValue: 'default',
      });
      expect(await admin(Subjects.adminAgentsSignal, { agentId: 'dave', signal: 'SIGINT' })).toEqual({
        delivered: true,
        state: 'running',
      });
      expect(await sys('dave', 'SYS_SIGACTION', { signal: 'SIGKILL', action: 'ignore' })).toMatchObject({
        errorCode: -5,
      });
      expect(await sys('dave', 'SYS_SIGACTION', { signal: 'SIGPOLICY', action: 'handle' })).toMatchObject({
        errorCode: -5,
      });
      expect(await sys('dave', 'SYS_SIGNAL', { signal: 'SIGNOPE' })).toMatchObject({ errorCode: -5 });
      expect(await sys('dave', 'SYS_SIGNAL', {})).toMatchObject({ errorCode: 1 });
      expect(await sys('dave', 'SYS_SIGNAL', { target: 'ghost', signal: 'SIGUSR1' })).toMatchObject({ errorCode: 2 });
    });

    it('terminates on SIGTRUST (escalates to SIGKILL): every later syscall gets -1', async () => {
      expect(
        await sys('frank', 'SYS_SIGNAL', { target: 'gina', signal: 'SIGTRUST', reason: 'untrusted' }),
      ).toMatchObject({ returnValue: true });
      // delivered through the relay when frank and gina live in different partitions
      await waitFor(
        async () => (await admin(Subjects.adminAgentsGet, { agentId: 'gina' })).state !== 'running',
        10_000,
        'the SIGTRUST to reach gina',
      );
      const g = await admin(Subjects.adminAgentsGet, { agentId: 'gina' });
      expect(g).toMatchObject({ state: 'terminated', terminatedBy: 'SIGKILL' });
      expect(await sys('gina', 'SYS_READ', { path: '/mem/working/a' })).toMatchObject({ errorCode: -1 });
      // signalling a terminated agent delivers nothing
      expect(await sys('frank', 'SYS_SIGNAL', { target: 'gina', signal: 'SIGCONT' })).toMatchObject({
        success: true,
        returnValue: false,
      });
    });
  });

  describe('exit', () => {
    it('exits with a code; the agent is then terminated (-1), not unknown (the seed answered 2)', async () => {
      expect(await sys('carol', 'SYS_EXIT', { code: 3 })).toMatchObject({ success: true, returnValue: 3 });
      expect(await sys('carol', 'SYS_WRITE', { path: '/mem/working/a', data: 'x' })).toMatchObject({ errorCode: -1 });
      expect(await admin(Subjects.adminAgentsGet, { agentId: 'carol' })).toMatchObject({
        state: 'terminated',
        exitCode: 3,
        terminatedBy: 'exit',
      });
    });
  });

  describe('idempotency', () => {
    it('answers a retried id with the first reply and records nothing new', async () => {
      const first = await sys('erin', 'SYS_WRITE', { path: '/mem/working/count', data: 'x', mode: 'a' }, 'same-id');
      const again = await sys('erin', 'SYS_WRITE', { path: '/mem/working/count', data: 'x', mode: 'a' }, 'same-id');
      expect(again).toEqual(first);
      const events = await t.request<{ events: RecordedEvent[] }>(Subjects.recorderReadStream, {
        streamId: 'agent:erin',
      });
      expect(events.events.filter((e) => (e.data as any).requestId === 'same-id')).toHaveLength(1);
      expect(await sys('erin', 'SYS_READ', { path: '/mem/working/count' })).toMatchObject({ returnValue: 'x' });
    });
  });

  describe('kernel metrics', () => {
    it('derives the seed metrics from the log, all numbers', async () => {
      const m = await admin(Subjects.adminKernelMetrics, {});
      expect(m.syscallCount).toBeGreaterThan(40);
      expect(m.policyChecks).toBeGreaterThan(0);
      expect(m.policyViolations).toBe(0);
      expect(typeof m.agentCrashes).toBe('number');
      expect(m.kernelPanics).toBe(0);
      expect(m.uptimeSeconds).toBeGreaterThan(0);
      expect(m.activeAgents).toBe(5); // 7 created; carol exited, gina killed
    });
  });
});
