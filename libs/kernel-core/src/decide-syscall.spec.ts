import { EventTypes, type SyscallName } from '#contracts';
import { cloneAgentState, evolveAgent, type AgentState } from '#agent-state';
import { compilePolicy, parsePolicyDocument } from '#policy-engine';
import { decideSyscall, SKIPPED, type Outside, type SyscallDecision } from './decide-syscall.js';
import type { PolicyInForce } from './policy-in-force.js';
import { buildSyscallAppend } from './syscall-append.js';
import { parseSyscallEnvelope } from './syscall-envelope.js';

const AT = '2026-11-30T12:00:00.000Z';

function agent(role = 'worker'): AgentState {
  return evolveAgent(null, {
    type: EventTypes.AgentCreated,
    schemaVersion: 1,
    data: { agentId: 'a1', role, at: AT },
    streamVersion: 1,
    position: 1,
  })!;
}

const permissive: PolicyInForce = {
  fenceStream: '$policy',
  activation: 0,
  version: null,
  hash: null,
  compiled: null,
  unusable: null,
  failClosed: false,
};

function withPolicy(yaml: string, activation = 1): PolicyInForce {
  const r = parsePolicyDocument(yaml, 'yaml');
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return { ...permissive, activation, version: 1, hash: 'h', compiled: compilePolicy(r.document) };
}

function decide(
  syscall: SyscallName | string,
  args: Record<string, unknown> = {},
  o: { state?: AgentState; policy?: PolicyInForce; outside?: Outside; body?: Record<string, unknown> } = {},
): SyscallDecision {
  return decideSyscall({
    agentId: 'a1',
    requestId: 'r1',
    envelope: parseSyscallEnvelope(o.body ?? { syscall, args }),
    state: o.state ?? agent(),
    policy: o.policy ?? permissive,
    at: AT,
    outside: o.outside ?? {},
  });
}

function decided(d: SyscallDecision) {
  if (d.kind !== 'decided') throw new Error(`expected a decision, got ${JSON.stringify(d)}`);
  return d;
}

const WRITER = `
apiVersion: agentos/v1
name: t
roles:
  worker:
    allow: [file_read, file_write, syscall_sys_checkpolicy]
rules:
  - name: no-secrets
    match: { actions: [file_write] }
    when: { field: args.data, operator: contains, value: secret }
    effect: deny
    onViolation: deny
`;

describe('decideSyscall: the seed order', () => {
  it('answers a terminated agent -1 before anything else, even a malformed request', () => {
    const s = cloneAgentState(agent());
    s.lifecycle = 'terminated';
    const d = decided(decide('NOT_A_SYSCALL', {}, { state: s }));
    expect(d.outcome.result.errorCode).toBe(-1);
    expect(d.decision).toEqual(SKIPPED);
  });

  it('answers a stopped agent -6, then a malformed request -5, never reaching the policy', () => {
    const s = cloneAgentState(agent());
    s.lifecycle = 'stopped';
    expect(decided(decide('SYS_WRITE', {}, { state: s })).outcome.result.errorCode).toBe(-6);
    const malformed = decided(decide('SYS_NOPE', {}, { policy: withPolicy(WRITER) }));
    expect(malformed.outcome.result).toMatchObject({ errorCode: -5 });
    expect(malformed.outcome.result.errorMessage).toMatch(/unknown syscall name 'SYS_NOPE'/);
    expect(malformed.decision).toEqual(SKIPPED);
    const badId = decided(decide('', {}, { body: { id: 'a\u0000b', syscall: 'SYS_STAT', args: {} } }));
    expect(badId.outcome.result.errorCode).toBe(-5);
  });

  it('refuses by policy (-2) before looking for a handler, killing by default', () => {
    const p = withPolicy(`
apiVersion: agentos/v1
name: t
roles:
  worker:
    allow: [file_read]
`);
    const d = decided(decide('SYS_WRITE', { path: '/mem/working/a', data: 'x' }, { policy: p }));
    expect(d.decision).toMatchObject({ allowed: false, mode: 'policy', policyVersion: 1, onViolation: 'kill' });
    expect(d.outcome.result.errorMessage).toMatch(/^Policy 'SYS_WRITE' blocked: /);
    expect(d.outcome.deliveries?.[0].events.map((e) => e.signal)).toEqual(['SIGPOLICY', 'SIGKILL']);
    // -3 comes after the policy: an unhandled syscall the policy refuses is -2
    const mmap = decided(decide('SYS_MMAP', {}, { policy: p }));
    expect(mmap.outcome.result.errorCode).toBe(-2);
    expect(decided(decide('SYS_MMAP')).outcome.result.errorCode).toBe(-3);
  });

  it('denies without killing when the rule says deny, and with fail-closed or an unusable version', () => {
    const d = decided(
      decide('SYS_WRITE', { path: '/mem/working/a', data: 'a secret' }, { policy: withPolicy(WRITER) }),
    );
    expect(d.decision).toMatchObject({ allowed: false, rule: 'no-secrets', onViolation: 'deny' });
    expect(d.outcome.deliveries).toBeUndefined();
    const closed = decided(decide('SYS_READ', { path: '/x' }, { policy: { ...permissive, failClosed: true } }));
    expect(closed.decision).toMatchObject({ allowed: false, mode: 'fail_closed', onViolation: 'deny' });
    const broken = decided(
      decide(
        'SYS_READ',
        { path: '/x' },
        { policy: { ...permissive, version: 4, unusable: 'version 4 cannot decide' } },
      ),
    );
    expect(broken.decision).toMatchObject({ allowed: false, policyVersion: 4, reason: 'version 4 cannot decide' });
  });

  it('never lets SYS_CHECKPOLICY violate a policy, and records which version answered', () => {
    const d = decided(decide('SYS_CHECKPOLICY', { action: 'file_delete' }, { policy: withPolicy(WRITER) }));
    expect(d.decision).toMatchObject({ allowed: true, mode: 'policy', policyVersion: 1 });
    expect(d.outcome.result).toMatchObject({ success: true, returnValue: { allowed: false, action: 'file_delete' } });
  });
});

describe('decideSyscall: what it needs from outside', () => {
  it('asks for the VFS answer for file syscalls, and records what the VFS decided', () => {
    expect(decide('SYS_WRITE', { path: '/mem/working/a', data: 'x' })).toEqual({
      kind: 'need',
      need: { kind: 'file' },
    });
    const d = decided(
      decide(
        'SYS_WRITE',
        { path: '/mem/working/a', data: 'x' },
        {
          outside: {
            file: {
              kind: 'result',
              result: { success: true, returnValue: 1, errorCode: null, errorMessage: null },
              effect: { op: 'write', path: '/mem/working/a', mode: 'w', encoding: 'utf8', bytes: 1 },
            },
          },
        },
      ),
    );
    expect(d.outcome.vfs).toMatchObject({ op: 'write' });
    expect(decide('SYS_READ', { path: '/x' }, { outside: { file: { kind: 'stale' } } })).toEqual({ kind: 'stale' });
    expect(decide('SYS_READ', { path: '/x' }, { outside: { file: { kind: 'unavailable', message: 'm' } } })).toEqual({
      kind: 'unavailable',
      message: 'm',
    });
    const broken = decided(
      decide('SYS_READ', { path: '/x' }, { outside: { file: { kind: 'broken', message: 'nonsense' } } }),
    );
    expect(broken.outcome.result).toMatchObject({ errorCode: -4, errorMessage: 'nonsense' });
  });

  it('asks for a tool only when the arguments are well formed, and records -404 for an unknown tool', () => {
    expect(decided(decide('SYS_EXEC', {})).outcome.result.errorCode).toBe(1);
    expect(decided(decide('SYS_EXEC', { tool: 'a b' })).outcome.result.errorCode).toBe(-5);
    expect(decide('SYS_EXEC', { tool: 'search', args: { q: 1 } })).toEqual({
      kind: 'need',
      need: { kind: 'tool', call: { tool: 'search', args: { q: 1 } } },
    });
    expect(
      decided(decide('SYS_EXEC', { tool: 'search' }, { outside: { tool: { registered: false } } })).outcome.result
        .errorCode,
    ).toBe(-404);
    const ran = decided(
      decide(
        'SYS_EXEC',
        { tool: '__proto__' },
        {
          outside: {
            tool: {
              registered: true,
              result: { success: true, returnValue: 'r', errorCode: null, errorMessage: null },
            },
          },
        },
      ),
    );
    expect(ran.outcome.result.returnValue).toBe('r');
  });

  it("asks for another agent's state to signal it, and plans the delivery on it", () => {
    expect(decide('SYS_SIGNAL', { target: 'b', signal: 'SIGSTOP' })).toEqual({
      kind: 'need',
      need: { kind: 'target', agentId: 'b' },
    });
    const missing = decided(decide('SYS_SIGNAL', { target: 'b', signal: 'SIGSTOP' }, { outside: { target: null } }));
    expect(missing.outcome.result.errorCode).toBe(2);
    const target = { ...agent(), agentId: 'b', version: 7 };
    const d = decided(decide('SYS_SIGNAL', { target: 'b', signal: 'SIGSTOP' }, { outside: { target } }));
    expect(d.outcome.deliveries).toEqual([
      expect.objectContaining({ agentId: 'b', baseVersion: 7, stateAfter: 'stopped' }),
    ]);
  });
});

describe('buildSyscallAppend', () => {
  it('records one SyscallRecorded v2 with the idempotency key, the signals after it, fenced on the policy activation', () => {
    const p = withPolicy(
      `
apiVersion: agentos/v1
name: t
roles:
  worker:
    allow: [file_read]
`,
      5,
    );
    const state = agent();
    const d = decided(decide('SYS_WRITE', { path: '/mem/working/a', data: 'x' }, { policy: p, state }));
    let n = 0;
    const built = buildSyscallAppend({
      agentId: 'a1',
      state,
      requestId: 'r1',
      envelope: parseSyscallEnvelope({ syscall: 'SYS_WRITE', args: { path: '/mem/working/a', data: 'x' } }),
      decision: d.decision,
      outcome: d.outcome,
      at: AT,
      executionTimeMs: 1,
      policy: p,
      eventId: 'e0',
      newEventId: () => `e${++n}`,
      metadata: (agentId, causationId) => ({ agentId, ...(causationId ? { causationId } : {}) }),
      partitionOf: () => 0,
    });
    expect(built.request.conditions).toEqual([{ streamId: '$policy', version: 5 }]);
    expect(built.request.appends).toHaveLength(1);
    const events = built.request.appends[0].events;
    expect(events.map((e) => [e.eventId, e.type, e.schemaVersion])).toEqual([
      ['e0', 'SyscallRecorded', 2],
      ['e1', 'SignalDelivered', 1],
      ['e2', 'SignalDelivered', 1],
    ]);
    expect(events[0].idempotencyKey).toBe('req:r1');
    expect(events[1].metadata?.causationId).toBe('e0');
    expect(built.record.transition).toBe('terminated');
    expect(built.request.appends[0].expectedVersion).toBe(state.version);
  });

  it('records a read as a digest and keeps the content for the reply only', () => {
    const d = decided(
      decide(
        'SYS_READ',
        { path: '/mem/working/a' },
        {
          outside: {
            file: {
              kind: 'result',
              result: { success: true, returnValue: 'content', errorCode: null, errorMessage: null },
              returned: { kind: 'content', bytes: 7, sha256: 'a'.repeat(64), encoding: 'utf8' },
            },
          },
        },
      ),
    );
    const built = buildSyscallAppend({
      agentId: 'a1',
      state: agent(),
      requestId: 'r2',
      envelope: parseSyscallEnvelope({ syscall: 'SYS_READ', args: { path: '/mem/working/a' } }),
      decision: d.decision,
      outcome: d.outcome,
      at: AT,
      executionTimeMs: 1,
      policy: permissive,
      eventId: 'e9',
      newEventId: () => 'x',
      metadata: () => ({}),
      partitionOf: () => 0,
    });
    expect(built.record.result.returnValue).toBeNull();
    expect(built.record.returned).toMatchObject({ bytes: 7 });
    expect(d.outcome.result.returnValue).toBe('content');
  });

  describe('signals to another agent', () => {
    const target = { ...agent(), agentId: 'b', version: 7 };
    const d = decided(decide('SYS_SIGNAL', { target: 'b', signal: 'SIGSTOP', reason: 'why' }, { outside: { target } }));
    const build = (partitionOf: (id: string) => number, policy = permissive) =>
      buildSyscallAppend({
        agentId: 'a1',
        state: agent(),
        requestId: 'r3',
        envelope: parseSyscallEnvelope({ syscall: 'SYS_SIGNAL', args: { target: 'b', signal: 'SIGSTOP' } }),
        decision: d.decision,
        outcome: d.outcome,
        at: AT,
        executionTimeMs: 1,
        policy,
        eventId: 'e0',
        newEventId: () => 'e1',
        metadata: (agentId, causationId) => ({ agentId, ...(causationId ? { causationId } : {}) }),
        partitionOf,
      });

    it("in the same partition: delivered in the syscall's own append, at the version decided on", () => {
      const built = build(() => 2, { ...permissive, fenceStream: '$policy@2', activation: 4 });
      expect(built.request.appends.map((a) => [a.streamId, a.expectedVersion, a.events.map((e) => e.type)])).toEqual([
        ['agent:a1', 1, ['SyscallRecorded']],
        ['agent:b', 7, ['SignalDelivered']],
      ]);
      expect(built.request.conditions).toEqual([{ streamId: '$policy@2', version: 4 }]);
    });

    it('in another partition: a SignalSent on the sender stream (the outbox), nothing on the target', () => {
      const built = build((id) => (id === 'b' ? 1 : 0));
      expect(built.request.appends).toHaveLength(1);
      const [own] = built.request.appends;
      expect(own.streamId).toBe('agent:a1');
      expect(own.events.map((e) => e.type)).toEqual(['SyscallRecorded', 'SignalSent']);
      expect(own.events[1].data).toEqual({ target: 'b', signal: 'SIGSTOP', source: 'a1', reason: 'why', at: AT });
      expect(own.events[1].metadata?.causationId).toBe('e0');
      expect(built.perStream.map((s) => s.agentId)).toEqual(['a1']);
    });
  });
});
