import { Subjects, type SyscallReply } from '#contracts';
import type { RecordedEvent } from '#event-store';
import { runCli } from '../support/cli.js';
import { agentPositionPattern, readAllFrom, replyPosition, testAgentPartition } from '../support/positions.js';
import { PrivateNatsServer } from '../support/private-nats-server.js';
import { startTestStack, type TestStack } from '../support/test-stack.js';
import { waitFor } from '../support/wait-for.js';

/**
 * What an attacker tried against a running deployment: names that are Object.prototype members,
 * files too big to read back, deep JSON, forged commit hints. Each must get a clear answer and
 * leave every agent usable and every page of the log readable.
 */
describe('hostile input on the syscall, admin and feed subjects', () => {
  let t: TestStack;
  let n = 0;
  const sys = (agentId: string, syscall: string, args: Record<string, unknown> = {}, id?: string) =>
    t.request<SyscallReply>(Subjects.syscall(agentId), { id: id ?? `h${++n}`, syscall, args }, 20_000);
  const cli = (args: string[]) =>
    runCli(args, {
      AGENTOS_NATS_URL: t.nc.getServer(),
      AGENTOS_SUBJECT_PREFIX: t.prefix,
      AGENTOS_PG_SCHEMA: t.schema,
    });
  const hostileNames = ['__proto__', 'constructor', 'toString', 'hasOwnProperty'];

  beforeAll(async () => {
    t = await startTestStack({ services: ['recorder', 'vfs', 'policy', 'kernel'] });
    for (const a of ['proto', 'files', 'deep', 'feed']) await t.request(Subjects.adminAgentsCreate, { agentId: a });
  });
  afterAll(async () => {
    await t.close();
  });

  it('survives SYS_EXEC of tools named like Object.prototype members: answered, recorded, agent still usable', async () => {
    for (const tool of hostileNames) {
      const r = await sys('proto', 'SYS_EXEC', { tool, args: { [tool]: tool } });
      expect(r).toMatchObject({ success: false, errorCode: -404 });
      expect(r.position).toMatch(agentPositionPattern('proto'));
    }
    // a registered tool of such a name works like any other (no provider: -500, recorded)
    expect(await t.request(Subjects.adminToolsRegister, { name: '__proto__' })).toEqual({ name: '__proto__' });
    expect(await sys('proto', 'SYS_EXEC', { tool: '__proto__' })).toMatchObject({ errorCode: -500 });
    expect(await sys('proto', 'SYS_WRITE', { path: '/mem/working/still', data: 'ok' })).toMatchObject({
      success: true,
    });
    const info = await t.request<Record<string, unknown>>(Subjects.adminAgentsGet, { agentId: 'proto' });
    expect(info).toMatchObject({ state: 'running', faults: 0 });
    expect(await t.request(Subjects.adminAgentsDigest, { agentId: 'proto' })).toMatchObject({
      digest: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    // signal dispositions and checks keyed by such names are refused, not stored
    expect(await sys('proto', 'SYS_SIGACTION', { signal: '__proto__', action: 'ignore' })).toMatchObject({
      errorCode: -5,
    });
    expect(await sys('proto', 'SYS_CHECKPOLICY', { action: 'constructor', args: { __proto__: 1 } })).toMatchObject({
      success: true,
    });
    const replay = await cli([
      'replay',
      '--agent',
      'proto',
      '--at',
      new Date(Date.now() + 60_000).toISOString(),
      '--json',
    ]);
    expect(replay.stderr).toBe('');
    expect(replay.code).toBe(0);
    expect(JSON.parse(replay.stdout)).toMatchObject({ agentId: 'proto', state: 'running' });
  });

  it('writes and reads back files up to the limit; reads record a digest, not the content', async () => {
    const chunk = 'a'.repeat(200 * 1024);
    expect(await sys('files', 'SYS_WRITE', { path: '/mem/working/big', data: chunk })).toMatchObject({ success: true });
    expect(await sys('files', 'SYS_WRITE', { path: '/mem/working/big', data: chunk, mode: 'a' })).toMatchObject({
      success: true,
      returnValue: chunk.length,
    });
    const read = await sys('files', 'SYS_READ', { path: '/mem/working/big' });
    expect(read.success).toBe(true);
    expect((read.returnValue as string).length).toBe(400 * 1024);
    const b64 = await sys('files', 'SYS_READ', { path: '/mem/working/big', encoding: 'base64' });
    expect(Buffer.from(b64.returnValue as string, 'base64').length).toBe(400 * 1024);
    // the read's event holds what was read (size and SHA-256), a few hundred bytes, not 400 KiB
    const events = await t.request<{ events: RecordedEvent[] }>(Subjects.recorderReadAll, {
      ...readAllFrom(read.position),
      toPosition: replyPosition(read.position).offset,
    });
    const d = events.events[0].data as Record<string, any>;
    expect(d.result.returnValue).toBeNull();
    expect(d.returned).toMatchObject({ kind: 'content', bytes: 400 * 1024, encoding: 'utf8' });
    expect(JSON.stringify(events.events[0]).length).toBeLessThan(4096);
    // beyond the file limit: 3, never -7
    const over = await sys('files', 'SYS_WRITE', { path: '/mem/working/big', data: chunk, mode: 'a' });
    expect(over).toMatchObject({ success: false, errorCode: 3 });
    expect(over.errorMessage).toMatch(/File size limit exceeded/);
    // a utf8 read whose JSON escaping could not fit one reply: 3 with the way out, not -7
    const control = '\u0001'.repeat(300 * 1024);
    const half = Buffer.from(control.slice(0, 150 * 1024)).toString('base64');
    for (const mode of ['w', 'a']) {
      const w = await sys('files', 'SYS_WRITE', { path: '/mem/working/ctl', data: half, encoding: 'base64', mode });
      expect(w).toMatchObject({ success: true });
    }
    const tooBig = await sys('files', 'SYS_READ', { path: '/mem/working/ctl' });
    expect(tooBig).toMatchObject({ success: false, errorCode: 3 });
    expect(tooBig.errorMessage).toMatch(/read it with encoding base64/);
    const asBase64 = await sys('files', 'SYS_READ', { path: '/mem/working/ctl', encoding: 'base64' });
    expect(Buffer.from(asBase64.returnValue as string, 'base64').toString()).toBe(control);
    // a body over the request limit is -5 (retrying never helps)
    const huge = await t.requestRaw(
      Subjects.syscall('files'),
      JSON.stringify({ syscall: 'SYS_WRITE', args: { path: '/mem/working/h', data: 'x'.repeat(300 * 1024) } }),
    );
    expect(huge).toMatchObject({ success: false, errorCode: -5 });
  });

  it('answers deep JSON on every subject with -5, not -4', async () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const subjects = [
      Subjects.adminAgentsCreate,
      Subjects.adminAgentsGet,
      Subjects.adminAgentsSignal,
      Subjects.adminToolsRegister,
      Subjects.policyValidate,
      Subjects.policyApply,
      Subjects.recorderReadAll,
      Subjects.recorderReadStream,
      Subjects.recorderAppend,
      Subjects.auditQuery,
      Subjects.auditStats,
    ];
    for (const s of subjects) {
      for (const body of [`{"x":${deep}}`, `{"agentId":"deep","role":${deep}}`]) {
        const r = await t.requestRaw(s, body);
        expect({ subject: s, r }).toMatchObject({ subject: s, r: { error: { code: -5 } } });
      }
    }
    const r = await t.requestRaw(Subjects.syscall('deep'), `{"syscall":"SYS_WRITE","args":{"path":${deep}}}`);
    expect(r).toMatchObject({ success: false, errorCode: -5 });
    expect(await sys('deep', 'SYS_WRITE', { path: '/mem/working/x', data: 'fine' })).toMatchObject({ success: true });
  });

  it('takes nothing from the commit feed but "reload": forged hints cost a read, never a stall', async () => {
    expect(await sys('feed', 'SYS_WRITE', { path: '/mem/working/f', data: '1' })).toMatchObject({ success: true });
    // on the feed of the partition agent:feed lives in (0 with one partition)
    const p = testAgentPartition('feed');
    const forge = (body: string) => t.nc.publish(t.subject(Subjects.feed(p)), body);
    forge(JSON.stringify({ p, head: 1e12, at: Date.now(), s: [['agent:feed', 1e9]] }));
    forge(
      JSON.stringify({ events: [{ streamId: 'agent:feed', streamVersion: 99, type: 'SyscallRecorded', data: {} }] }),
    );
    forge('not json');
    forge(`{"p":${p},"head":1,"at":1,"s":${'['.repeat(50_000)}${']'.repeat(50_000)}}`);
    await t.nc.flush();
    const started = Date.now();
    for (let i = 0; i < 5; i++) {
      expect(await sys('feed', 'SYS_WRITE', { path: '/mem/working/f', data: `${i}` })).toMatchObject({ success: true });
    }
    expect(await sys('feed', 'SYS_READ', { path: '/mem/working/f' })).toMatchObject({ returnValue: '4' });
    expect(Date.now() - started).toBeLessThan(5000); // the 20 s stall of a cache "ahead of the log" is gone
    for (const s of t.stack.running()) {
      const res = await fetch(`http://127.0.0.1:${s.httpPort}/health/ready`);
      expect(res.status).toBe(200);
    }
  });
});

describe('readiness tells the truth about NATS', () => {
  it('reports not ready while NATS is down and ready again after it returns', async () => {
    const nats = new PrivateNatsServer();
    await nats.start();
    const t = await startTestStack({ natsUrl: nats.url, services: ['recorder'] });
    try {
      const port = t.stack.running('recorder')[0].httpPort;
      const ready = async () => (await fetch(`http://127.0.0.1:${port}/health/ready`)).status;
      expect(await ready()).toBe(200);
      await nats.stop();
      await waitFor(async () => (await ready()) === 503, 10_000, 'readiness to drop');
      const body = (await (await fetch(`http://127.0.0.1:${port}/health/ready`)).json()) as {
        checks: { nats: string };
      };
      expect(body.checks.nats).toMatch(/disconnected/);
      await nats.start(nats.port);
      await waitFor(async () => (await ready()) === 200, 20_000, 'readiness to return');
    } finally {
      await t.close();
      await nats.stop();
    }
  });
});
