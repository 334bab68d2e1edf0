import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Subjects, type SignalNotice, type SyscallReply } from '#contracts';
import type { RecordedEvent } from '#event-store';
import { runCli } from '../support/cli.js';
import { replyPosition, testAgentPartition } from '../support/positions.js';
import { TEST_PARTITIONS } from '../support/test-env.js';
import { startTestStack, type TestStack } from '../support/test-stack.js';

const FLEET = readFileSync(new URL('../../examples/policies/fleet.yaml', import.meta.url), 'utf8');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('policy service and kernel decisions', () => {
  let t: TestStack;
  let dir: string;
  let env: Record<string, string>;
  let n = 0;
  const sys = (agentId: string, syscall: string, args: Record<string, unknown> = {}) =>
    t.request<SyscallReply>(Subjects.syscall(agentId), { id: `p${++n}`, syscall, args });
  const file = (name: string, text: string) => {
    const p = path.join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const cli = (...args: string[]) => runCli(args, env);
  /**
   * The whole log: every partition's events (each in its partition's order), partition 0 first.
   * A page is cut to fit one NATS message, so it may hold fewer than `limit` events before the
   * head: read on until the head the page names.
   */
  async function readAll(): Promise<RecordedEvent[]> {
    const events: RecordedEvent[] = [];
    for (let partition = 0; partition < TEST_PARTITIONS; partition++) {
      for (let after = 0; ;) {
        const page = await t.request<{ events: RecordedEvent[]; head: { position: number } }>(
          Subjects.recorderReadAll,
          { ...(TEST_PARTITIONS > 1 ? { partition } : {}), after, limit: 1000 },
        );
        events.push(...page.events);
        if (page.events.length === 0 || page.events.at(-1)!.position >= page.head.position) break;
        after = page.events.at(-1)!.position;
      }
    }
    return events;
  }
  /** The event at a reply's position: that offset in the partition it names. */
  const eventAt = (events: RecordedEvent[], position: string | undefined) => {
    const p = replyPosition(position);
    return events.find((e) => (e.partition ?? 0) === p.partition && e.position === p.offset);
  };

  beforeAll(async () => {
    t = await startTestStack({ services: ['recorder', 'vfs', 'policy', 'kernel', 'kernel'] });
    dir = mkdtempSync(path.join(os.tmpdir(), 'agentos-policy-'));
    env = {
      AGENTOS_NATS_URL: t.nc.getServer().startsWith('nats') ? t.nc.getServer() : `nats://${t.nc.getServer()}`,
      AGENTOS_SUBJECT_PREFIX: t.prefix,
    };
    for (const [a, role] of [
      ['w1', 'writer'],
      ['w2', 'writer'],
      ['r1', 'reader'],
      ['s1', 'support'],
      ['k1', 'writer'],
    ]) {
      await t.request(Subjects.adminAgentsCreate, { agentId: a, role });
    }
  });
  afterAll(async () => {
    await t.close();
  });

  it('validates documents offline with the line and field of each problem', async () => {
    const good = await cli('--json', 'policy', 'validate', file('fleet.yaml', FLEET));
    expect(good.code).toBe(0);
    expect(JSON.parse(good.stdout)).toMatchObject({
      valid: true,
      name: 'fleet',
      hash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    const bad = await cli(
      '--json',
      'policy',
      'validate',
      file('bad.yaml', 'apiVersion: agentos/v1\nname: x\nrules:\n  - name: r\n    effect: perhaps\n'),
    );
    expect(bad.code).toBe(2);
    expect(JSON.parse(bad.stdout)).toEqual({
      valid: false,
      errors: [{ field: 'rules[0].effect', line: 5, column: 13, message: 'must be one of "allow", "deny"' }],
    });
    const human = await cli('policy', 'validate', path.join(dir, 'bad.yaml'));
    expect(human.stdout).toContain('bad.yaml:5:13');
    expect(human.stdout).toContain('rules[0].effect');
  });

  it('is permissive until a policy is applied, then decides with it on every kernel replica, without a restart', async () => {
    expect(await sys('r1', 'SYS_WRITE', { path: '/mem/working/a', data: 'x' })).toMatchObject({ success: true });
    const applied = await cli(
      '--json',
      'policy',
      'apply',
      path.join(dir, 'fleet.yaml'),
      '--reason',
      'first rollout',
      '--by',
      'alice',
    );
    expect(applied.code).toBe(0);
    expect(JSON.parse(applied.stdout)).toMatchObject({ status: 'applied', version: 1 });
    // every replica switches on its own, without a restart (how fast is a measurement, not an
    // assertion: `agentos_policy_switch_seconds`; the fence below is what makes it safe)
    const switchedEverywhere = () =>
      t.stack
        .running('kernel')
        .every((k) => k.lines.some((l) => l.includes('"policy switched"') && l.includes('"to":1')));
    for (let i = 0; i < 100 && !switchedEverywhere(); i++) await sleep(50);
    expect(switchedEverywhere()).toBe(true);
    // a reader may no longer write: denied by default, and killed (the seed's 0 % tolerance)
    const notices: SignalNotice[] = [];
    const sub = t.nc.subscribe(t.subject(Subjects.signal('r1')), {
      callback: (_e, m) => void notices.push(m.json<SignalNotice>()),
    });
    const denied = await sys('r1', 'SYS_WRITE', { path: '/mem/working/a', data: 'y' });
    expect(denied).toMatchObject({
      success: false,
      errorCode: -2,
      errorMessage: "Policy 'SYS_WRITE' blocked: Role reader cannot use action file_write",
    });
    expect(await sys('r1', 'SYS_READ', { path: '/mem/working/a' })).toMatchObject({ errorCode: -1 });
    await sleep(100);
    sub.unsubscribe();
    expect(notices.map((x) => [x.signal, x.outcome, x.source])).toEqual([
      ['SIGPOLICY', 'escalated', 'policy'],
      ['SIGKILL', 'default', 'kernel'],
    ]);
    const events = await readAll();
    const ev = eventAt(events, denied.position)!;
    expect((ev.data as any).decision).toEqual({
      allowed: false,
      mode: 'policy',
      action: 'file_write',
      policyVersion: 1,
      rule: 'role:reader',
      reason: 'Role reader cannot use action file_write',
      shadow: false,
      onViolation: 'kill',
    });
  });

  it('denies without killing, and audits (shadow) without denying', async () => {
    expect(await sys('w1', 'SYS_WRITE', { path: '/mem/working/secrets/k', data: 'x' })).toMatchObject({
      errorCode: -2,
      errorMessage: "Policy 'SYS_WRITE' blocked: secrets are read-only",
    });
    expect(await sys('w1', 'SYS_WRITE', { path: '/mem/working/notes', data: 'fine' })).toMatchObject({ success: true });
    const audited = await sys('w1', 'SYS_WRITE', { path: '/mem/working/notes', data: '+more', mode: 'a' });
    expect(audited).toMatchObject({ success: true, returnValue: 5 });
    const ev = eventAt(await readAll(), audited.position)!;
    expect((ev.data as any).decision).toMatchObject({
      allowed: true,
      shadow: true,
      rule: 'watch-large-writes',
      reason: 'appends are being reviewed',
      onViolation: 'audit',
    });
    expect(await sys('w1', 'SYS_READ', { path: '/mem/working/notes' })).toMatchObject({ returnValue: 'fine+more' });
  });

  it('applies conditional permissions (ABAC) and the argument checks', async () => {
    await t.request(Subjects.adminToolsRegister, { name: 'refund' });
    const refund = (amount: number) => sys('s1', 'SYS_EXEC', { tool: 'refund', args: { amount } });
    // allowed by policy, then fails because no provider serves the tool: the decision is what matters
    expect(await refund(100)).toMatchObject({ errorCode: -500 });
    expect(await refund(5000)).toMatchObject({
      errorCode: -2,
      errorMessage: "Policy 'SYS_EXEC' blocked: Conditional permission denied for refund: Conditions not met",
    });
    expect(await sys('s1', 'SYS_READ', { path: '/mem/working/x' })).toMatchObject({ errorCode: -1 });
    // path traversal on a file action is a violation of the argument checks (kill)
    expect(await sys('k1', 'SYS_READ', { path: '/mem/working/../../etc/passwd' })).toMatchObject({
      errorCode: -2,
      errorMessage: expect.stringMatching(/^Policy 'SYS_READ' blocked: Path Violation/),
    });
    expect((await t.request<any>(Subjects.adminAgentsGet, { agentId: 'k1' })).state).toBe('terminated');
  });

  it('answers SYS_CHECKPOLICY without ever killing, and shows the rules with SYS_GETPOLICY', async () => {
    expect(await sys('w2', 'SYS_CHECKPOLICY', { action: 'database_query' })).toMatchObject({
      success: true,
      returnValue: {
        allowed: false,
        reason: 'Role writer cannot use action database_query',
        action: 'database_query',
        agentId: 'w2',
        policyVersion: 1,
      },
    });
    expect(
      await sys('w2', 'SYS_CHECKPOLICY', { action: 'file_write', args: { path: '/mem/working/x', mode: 'a' } }),
    ).toMatchObject({
      returnValue: { allowed: true, shadow: true, rule: 'watch-large-writes' },
    });
    expect((await t.request<any>(Subjects.adminAgentsGet, { agentId: 'w2' })).state).toBe('running');
    const p = await sys('w2', 'SYS_GETPOLICY', { action: 'file_write' });
    expect(p.returnValue).toMatchObject({ policyVersion: 1, name: 'fleet', mode: 'policy' });
    expect((p.returnValue as any).rules.map((r: any) => r.kind + ':' + (r.name ?? r.role ?? ''))).toEqual([
      'allow:writer',
      'rule:no-secrets',
      'rule:watch-large-writes',
      'rateLimit:writes',
      'defaults:',
    ]);
  });

  it('versions, lists, shows, diffs and rolls back through the CLI', async () => {
    const v2 = FLEET.replace('perMinute: 600', 'perMinute: 300').replace('name: fleet', 'name: fleet-v2');
    expect(JSON.parse((await cli('--json', 'policy', 'apply', file('v2.yaml', v2))).stdout)).toMatchObject({
      status: 'applied',
      version: 2,
    });
    expect(JSON.parse((await cli('--json', 'policy', 'apply', path.join(dir, 'v2.yaml'))).stdout)).toMatchObject({
      status: 'unchanged',
      version: 2,
    });
    const list = JSON.parse((await cli('--json', 'policy', 'list')).stdout);
    expect(list.versions.map((v: any) => [v.version, v.active, v.appliedBy])).toEqual([
      [1, false, 'alice'],
      [2, true, expect.any(String)],
    ]);
    const show = await cli('policy', 'show', '1');
    expect(show.stdout).toContain('# version 1');
    expect(show.stdout).toContain('name: fleet');
    const diff = JSON.parse((await cli('--json', 'policy', 'diff', '1', '2')).stdout);
    expect(diff).toMatchObject({ from: 1, to: 2, name: { from: 'fleet', to: 'fleet-v2' }, identical: false });
    expect(diff.rateLimits.changed.map((c: any) => c.name)).toEqual(['writes']);
    expect(JSON.parse((await cli('--json', 'policy', 'rollback', '1', '--reason', 'too strict')).stdout)).toMatchObject(
      { status: 'activated', version: 1 },
    );
    await sleep(300);
    expect((await sys('w2', 'SYS_GETPOLICY', {})).returnValue).toMatchObject({ policyVersion: 1 });
    expect(JSON.parse((await cli('--json', 'policy', 'apply', path.join(dir, 'v2.yaml'))).stdout)).toMatchObject({
      status: 'activated',
      version: 2,
    });
    const human = await cli('policy', 'list');
    expect(human.stdout).toMatch(/version/);
  });

  it('refuses invalid, huge, deep and runaway documents before they become a version', async () => {
    const before = (await t.request<any>(Subjects.policyList, {})).versions.length;
    const bad = await t.request<any>(Subjects.policyApply, {
      document: 'apiVersion: agentos/v1\nname: x\nrules:\n  - name: r\n    effect: nope\n',
    });
    expect(bad.error).toMatchObject({ code: -5, errors: [{ field: 'rules[0].effect', line: 5 }] });
    const huge = await t.request<any>(Subjects.policyApply, {
      document: `apiVersion: agentos/v1\nname: x\ndescription: "${'x'.repeat(300_000)}"\n`,
    });
    expect(huge.error.code).toBe(-5);
    const deep = await t.request<any>(Subjects.policyApply, {
      document: `{"apiVersion":"agentos/v1","name":"x","roles":{"r":{"context":${'{"a":'.repeat(40)}1${'}'.repeat(40)}}}}`,
      format: 'json',
    });
    expect(deep.error.message).toMatch(/nested deeper/);
    const redos = await t.request<any>(Subjects.policyApply, {
      document:
        "apiVersion: agentos/v1\nname: x\nrules:\n  - name: r\n    effect: deny\n    when: {field: args.q, operator: matches, value: '(a+)+$'}\n",
    });
    expect(redos.error.message).toMatch(/catastrophically/);
    expect(await t.requestRaw(Subjects.policyApply, 'not json')).toMatchObject({ error: { code: -5 } });
    expect((await t.request<any>(Subjects.policyList, {})).versions.length).toBe(before);
  });

  it('enforces rate limits derived from the log, across two kernel replicas and across a restart', async () => {
    const limited = `apiVersion: agentos/v1
name: limited
roles:
  limited: { allow: [file_write, file_read, syscall_sys_getpolicy] }
rateLimits:
  - { name: hourly-writes, match: { actions: [file_write] }, perHour: 5, onViolation: deny }
`;
    expect(JSON.parse((await cli('--json', 'policy', 'apply', file('limited.yaml', limited))).stdout)).toMatchObject({
      status: 'applied',
      version: 3,
    });
    await sleep(300);
    await t.request(Subjects.adminAgentsCreate, { agentId: 'lim', role: 'limited' });
    const replies = await Promise.all(
      Array.from({ length: 8 }, (_, i) => sys('lim', 'SYS_WRITE', { path: `/mem/working/${i}`, data: 'x' })),
    );
    expect(replies.filter((r) => r.success)).toHaveLength(5);
    const refused = replies.filter((r) => !r.success);
    expect(refused).toHaveLength(3);
    for (const r of refused)
      expect(r).toMatchObject({
        errorCode: -2,
        errorMessage: "Policy 'SYS_WRITE' blocked: Rate limit hourly-writes exceeded: 5 per hour",
      });
    // reads do not count
    const written = replies.findIndex((r) => r.success);
    expect(await sys('lim', 'SYS_READ', { path: `/mem/working/${written}` })).toMatchObject({
      success: true,
      returnValue: 'x',
    });
    // restart every kernel: the usage comes back from the log
    for (const k of t.stack.running('kernel')) await k.stop();
    await t.stack.start('kernel');
    await t.stack.start('kernel');
    expect(await sys('lim', 'SYS_WRITE', { path: '/mem/working/z', data: 'x' })).toMatchObject({ errorCode: -2 });
    expect((await sys('lim', 'SYS_GETPOLICY', {})).returnValue).toMatchObject({ policyVersion: 3 });
  });

  it('switches policy under load with every decision naming the version in force at its place in the log', async () => {
    const allowAll = `apiVersion: agentos/v1\nname: open\nroles:\n  worker: { allow: ['*'] }\n`;
    const noWrites = `apiVersion: agentos/v1\nname: closed\nroles:\n  worker: { allow: [file_read, syscall_sys_getpolicy] }\ndefaults: { onViolation: deny }\n`;
    const agents = Array.from({ length: 8 }, (_, i) => `sw${i}`);
    for (const a of agents) await t.request(Subjects.adminAgentsCreate, { agentId: a, role: 'worker' });
    const open = JSON.parse((await cli('--json', 'policy', 'apply', file('open.yaml', allowAll))).stdout);
    await sleep(300);
    let running = true;
    const results: { reply: SyscallReply; sentAfterSwitch: boolean }[] = [];
    let switchedAt = Infinity;
    const load = Promise.all(
      agents.map(async (a) => {
        for (let i = 0; running; i++) {
          const sentAt = Date.now();
          const reply = await sys(a, 'SYS_WRITE', { path: `/mem/working/${i % 3}`, data: 'x' });
          results.push({ reply, sentAfterSwitch: sentAt > switchedAt });
        }
      }),
    );
    await sleep(800);
    const closed = JSON.parse((await cli('--json', 'policy', 'apply', file('closed.yaml', noWrites))).stdout);
    switchedAt = Date.now();
    await sleep(800);
    running = false;
    await load;

    expect(closed.version).toBe(open.version + 1);
    // the switch's place in each partition's order: the PolicyApplied event in the home partition
    // (the position the apply answered); in every other, the first PolicyFence of the new version
    const events = await readAll();
    const applied = replyPosition(closed.position);
    const switchPosition = (partition: number): number => {
      if (partition === applied.partition) return applied.offset;
      const fence = events.find(
        (e) =>
          e.partition === partition && e.type === 'PolicyFence' && (e.data as any).activeVersion === closed.version,
      );
      if (!fence) throw new Error(`no PolicyFence of version ${closed.version} in partition ${partition}`);
      return fence.position;
    };
    const decisions = events.filter(
      (e) =>
        e.type === 'SyscallRecorded' && agents.includes(e.streamId.slice(6)) && (e.data as any).syscall === 'SYS_WRITE',
    );
    for (const e of decisions) expect(e.partition ?? 0).toBe(testAgentPartition(e.streamId.slice(6)));
    const before = decisions.filter((e) => e.position < switchPosition(e.partition ?? 0));
    const after = decisions.filter((e) => e.position > switchPosition(e.partition ?? 0));
    expect(before.length).toBeGreaterThan(10);
    expect(after.length).toBeGreaterThan(10);
    for (const e of before)
      expect((e.data as any).decision).toMatchObject({ policyVersion: open.version, allowed: true });
    for (const e of after)
      expect((e.data as any).decision).toMatchObject({
        policyVersion: closed.version,
        allowed: false,
        rule: 'role:worker',
      });
    // what agents were told matches the log: nothing sent after the switch was allowed
    expect(results.filter((r) => r.sentAfterSwitch && r.reply.success)).toEqual([]);
    expect(results.filter((r) => !r.reply.success && r.reply.errorCode !== -2)).toEqual([]);
  });
});

describe('a fail-closed kernel', () => {
  it('denies every syscall until a policy is applied, recording why', async () => {
    const t = await startTestStack({
      services: ['recorder', 'vfs', 'policy', 'kernel'],
      env: { AGENTOS_FAIL_CLOSED: 'true' },
    });
    try {
      await t.request(Subjects.adminAgentsCreate, { agentId: 'fc' });
      const denied = await t.request<SyscallReply>(Subjects.syscall('fc'), {
        syscall: 'SYS_WRITE',
        args: { path: '/mem/working/a', data: 'x' },
      });
      expect(denied).toMatchObject({
        success: false,
        errorCode: -2,
        errorMessage: "Policy 'SYS_WRITE' blocked: no policy has been applied and the kernel is fail-closed",
      });
      expect(await t.request<SyscallReply>(Subjects.syscall('fc'), { syscall: 'SYS_GETPOLICY' })).toMatchObject({
        errorCode: -2,
      });
      // deny, not kill: once a policy is applied the agent works
      const applied = await t.request<{ version: number }>(Subjects.policyApply, {
        document: 'apiVersion: agentos/v1\nname: open\nroles:\n  agent: { allow: ["*"] }\n',
      });
      expect(applied.version).toBe(1);
      await sleep(300);
      expect(
        await t.request<SyscallReply>(Subjects.syscall('fc'), {
          syscall: 'SYS_WRITE',
          args: { path: '/mem/working/a', data: 'x' },
        }),
      ).toMatchObject({
        success: true,
      });
    } finally {
      await t.close();
    }
  });
});
