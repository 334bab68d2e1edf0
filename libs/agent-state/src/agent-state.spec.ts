import { EventTypes, type DecisionV1, type SignalDeliveredV1, type SyscallRecordedV1 } from '#contracts';
import { agentDigest } from './agent-digest.js';
import { evolveAgent, usageCount } from './agent-reducer.js';
import { cloneAgentState, type AgentState } from './agent-state.js';
import { fromAgentSnapshot, toAgentSnapshot } from './agent-snapshot.js';
import { planDeliveries } from './delivery-plan.js';
import { deliverSignal } from './signal-delivery.js';

const AT = '2026-11-24T10:00:30.000Z';
const ALLOWED: DecisionV1 = {
  allowed: true,
  mode: 'permissive',
  action: 'file_write',
  policyVersion: null,
  rule: null,
  reason: null,
  shadow: false,
  onViolation: null,
};

function created(): AgentState {
  return evolveAgent(null, {
    type: EventTypes.AgentCreated,
    schemaVersion: 1,
    data: { agentId: 'a', role: 'worker', at: AT },
    streamVersion: 1,
    position: 10,
  })!;
}

/** Folds into a copy, so each step of a test keeps its own state. */
function fold(s: AgentState, type: string, data: unknown, schemaVersion = 1): AgentState {
  const next = cloneAgentState(s);
  return evolveAgent(next, { type, schemaVersion, data, streamVersion: s.version + 1, position: s.position + 1 })!;
}

function syscallData(extra: Partial<SyscallRecordedV1> = {}): SyscallRecordedV1 {
  return {
    requestId: 'r',
    syscall: 'SYS_WRITE',
    args: {},
    decision: ALLOWED,
    result: { success: true, returnValue: 1, errorCode: null, errorMessage: null },
    at: AT,
    executionTimeMs: 1,
    ...extra,
  };
}

function syscall(s: AgentState, extra: Partial<SyscallRecordedV1> = {}): AgentState {
  return fold(s, EventTypes.SyscallRecorded, syscallData(extra));
}

function deliver(s: AgentState, signal: SignalDeliveredV1['signal'], fromPending = false): AgentState {
  let out = s;
  for (const e of deliverSignal(s, { signal, source: 'test', reason: '', at: AT }, fromPending))
    out = fold(out, EventTypes.SignalDelivered, e);
  return out;
}

describe('agent state fold', () => {
  it('starts running at version 1 and counts syscalls, failures, crashes and policy checks', () => {
    let s = created();
    expect(s).toMatchObject({ agentId: 'a', role: 'worker', lifecycle: 'running', version: 1, position: 10 });
    s = syscall(s);
    s = syscall(s, { result: { success: false, returnValue: null, errorCode: -4, errorMessage: 'boom' } });
    s = syscall(s, {
      decision: { ...ALLOWED, allowed: false, mode: 'policy', policyVersion: 3 },
      result: { success: false, returnValue: null, errorCode: -2, errorMessage: 'no' },
    });
    s = syscall(s, { decision: { ...ALLOWED, mode: 'skipped', action: null } });
    expect(s.counters).toMatchObject({ syscalls: 4, failed: 2, crashes: 1, policyChecks: 3, violations: 1 });
    expect(s.lastPolicyVersion).toBe(3);
    expect(s.version).toBe(5);
  });

  it('folds in place, and a clone is independent of the state it was taken from', () => {
    const s = syscall(created());
    const before = agentDigest(s);
    const copy = cloneAgentState(s);
    evolveAgent(copy, {
      type: EventTypes.SyscallRecorded,
      schemaVersion: 1,
      data: { ...syscallData(), kernel: { op: 'sigaction', signal: 'SIGUSR1', disposition: 'ignore' } },
      streamVersion: 3,
      position: 12,
    });
    expect(copy.dispositions.get('SIGUSR1')).toBe('ignore');
    expect(agentDigest(s)).toBe(before);
    expect(planDeliveries(s, [{ req: { signal: 'SIGSTOP', source: 't', reason: '', at: AT } }]).stateAfter).toBe(
      'stopped',
    );
    expect(agentDigest(s)).toBe(before);
  });

  it('counts allowed actions per minute on the log clock, for rate limits', () => {
    let s = created();
    for (let i = 0; i < 3; i++) s = syscall(s, { at: '2026-11-24T10:00:10.000Z' });
    s = syscall(s, { at: '2026-11-24T10:01:10.000Z', decision: { ...ALLOWED, action: 'file_read' } });
    s = syscall(s, { at: '2026-11-24T10:01:20.000Z' });
    const now = Date.parse('2026-11-24T10:01:30.000Z');
    expect(usageCount(s, (a) => a === 'file_write', 1, now)).toBe(1);
    expect(usageCount(s, (a) => a === 'file_write', 60, now)).toBe(4);
    expect(usageCount(s, () => true, 60, now)).toBe(5);
    // an hour later the old minutes are gone
    s = syscall(s, { at: '2026-11-24T11:30:00.000Z' });
    expect(usageCount(s, () => true, 60, Date.parse('2026-11-24T11:30:00.000Z'))).toBe(1);
  });

  it('exit terminates with the code; sigaction and sigprocmask change dispositions and the mask', () => {
    let s = syscall(created(), { kernel: { op: 'sigaction', signal: 'SIGUSR1', disposition: 'handle' } });
    s = syscall(s, { kernel: { op: 'sigprocmask', blocked: ['SIGINT', 'SIGSTOP'] } });
    expect(Object.fromEntries(s.dispositions)).toEqual({ SIGUSR1: 'handle' });
    expect(s.blocked).toEqual(['SIGSTOP', 'SIGINT']);
    s = syscall(s, { kernel: { op: 'sigaction', signal: 'SIGUSR1', disposition: 'default' } });
    expect(s.dispositions.size).toBe(0);
    s = syscall(s, { kernel: { op: 'exit', code: 4 } });
    expect(s).toMatchObject({ lifecycle: 'terminated', exitCode: 4, terminatedBy: 'exit' });
  });
});

describe('signal delivery (the seed rules)', () => {
  it('stops on STOP, INT and BUDGET and resumes on CONT', () => {
    for (const sig of ['SIGSTOP', 'SIGINT', 'SIGBUDGET'] as const) {
      const s = deliver(created(), sig);
      expect(s.lifecycle).toBe('stopped');
      expect(deliver(s, 'SIGCONT').lifecycle).toBe('running');
    }
  });

  it('terminates on TERM and KILL; POLICY and TRUST escalate to KILL', () => {
    expect(deliver(created(), 'SIGTERM')).toMatchObject({ lifecycle: 'terminated', terminatedBy: 'SIGTERM' });
    expect(deliver(created(), 'SIGKILL')).toMatchObject({ lifecycle: 'terminated', terminatedBy: 'SIGKILL' });
    for (const sig of ['SIGPOLICY', 'SIGTRUST'] as const) {
      const events = deliverSignal(created(), { signal: sig, source: 'policy', reason: 'r', at: AT });
      expect(events.map((e) => [e.signal, e.outcome, e.transition])).toEqual([
        [sig, 'escalated', undefined],
        ['SIGKILL', 'default', 'terminated'],
      ]);
    }
  });

  it('has no default action for USR1, USR2, LOOP, DRIFT', () => {
    for (const sig of ['SIGUSR1', 'SIGUSR2', 'SIGLOOP', 'SIGDRIFT'] as const) {
      const s = deliver(created(), sig);
      expect(s.lifecycle).toBe('running');
      expect(s.counters.signalsReceived).toBe(1);
    }
  });

  it('queues blocked signals and delivers them when released, in order', () => {
    let s = syscall(created(), { kernel: { op: 'sigprocmask', blocked: ['SIGSTOP', 'SIGCONT'] } });
    s = deliver(s, 'SIGSTOP');
    s = deliver(s, 'SIGCONT');
    expect(s.lifecycle).toBe('running');
    expect(s.pending.map((p) => p.signal)).toEqual(['SIGSTOP', 'SIGCONT']);
    const plan = planDeliveries(
      { ...s, blocked: [] },
      s.pending.map((p) => ({
        req: { signal: p.signal, source: p.source, reason: p.reason, at: AT },
        fromPending: true,
      })),
    );
    expect(plan.stateAfter).toBe('running');
    expect(plan.state.pending).toEqual([]);
  });

  it('never lets SIGKILL or SIGPOLICY be blocked, ignored or handled', () => {
    const s: AgentState = {
      ...created(),
      blocked: ['SIGKILL', 'SIGPOLICY'],
      dispositions: new Map([
        ['SIGKILL', 'ignore'],
        ['SIGPOLICY', 'handle'],
      ]),
    };
    expect(deliver(s, 'SIGKILL').lifecycle).toBe('terminated');
    expect(deliverSignal(s, { signal: 'SIGPOLICY', source: 'p', reason: '', at: AT })[0].outcome).toBe('escalated');
  });

  it('ignores and hands over to handlers, but SIGCONT still resumes a handled stop', () => {
    const ign = syscall(created(), { kernel: { op: 'sigaction', signal: 'SIGTERM', disposition: 'ignore' } });
    expect(deliver(ign, 'SIGTERM').lifecycle).toBe('running');
    let h = syscall(created(), { kernel: { op: 'sigaction', signal: 'SIGCONT', disposition: 'handle' } });
    h = deliver(h, 'SIGSTOP');
    const events = deliverSignal(h, { signal: 'SIGCONT', source: 'x', reason: '', at: AT });
    expect(events[0]).toMatchObject({ outcome: 'handled', transition: 'running' });
  });

  it('delivers nothing to a terminated agent', () => {
    expect(
      deliverSignal(deliver(created(), 'SIGKILL'), { signal: 'SIGCONT', source: 'x', reason: '', at: AT }),
    ).toEqual([]);
  });
});

describe('the fold is total: no recorded data can make an agent unusable', () => {
  const hostileNames = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'];

  it('counts usage of actions named like Object.prototype members as any other action', () => {
    let s = created();
    for (const action of hostileNames) {
      const data = JSON.parse(JSON.stringify(syscallData({ decision: { ...ALLOWED, action: 'x' } })));
      data.decision.action = action;
      s = fold(s, EventTypes.SyscallRecorded, data);
    }
    expect(s.faults).toBe(0);
    expect(s.counters.syscalls).toBe(hostileNames.length);
    for (const action of hostileNames) expect(usageCount(s, (a) => a === action, 1, Date.parse(AT))).toBe(1);
    expect(agentDigest(s)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('records an event it cannot apply as a fault, advances the version, and keeps folding', () => {
    let s = created();
    const bad: unknown[] = [
      {},
      null,
      'text',
      [],
      { ...syscallData(), decision: 'yes' },
      { ...syscallData(), result: null },
      { ...syscallData(), at: 'not a time' },
      { ...syscallData(), kernel: { op: 'sigaction', signal: '__proto__', disposition: 'ignore' } },
      { ...syscallData(), kernel: { op: 'exit', code: 'x' } },
      JSON.parse('{"__proto__": {"polluted": true}}'),
    ];
    for (const data of bad) s = fold(s, EventTypes.SyscallRecorded, data);
    s = fold(s, EventTypes.SignalDelivered, { signal: 'constructor', outcome: 'default', at: AT });
    s = fold(s, EventTypes.AgentCreated, { agentId: 'a', role: 'x', at: AT });
    expect(s.faults).toBe(bad.length + 2);
    expect(s.lastFault).toMatchObject({ type: 'AgentCreated', reason: 'a second AgentCreated' });
    expect(s.version).toBe(1 + bad.length + 2);
    expect(s.counters.syscalls).toBe(0);
    expect(s.dispositions.size).toBe(0);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // and the agent is still an agent: the next good event folds as usual
    s = syscall(s);
    expect(s.counters.syscalls).toBe(1);
    expect(s.lifecycle).toBe('running');
  });

  it('ignores unknown types and schema versions (a newer writer never breaks an older reader)', () => {
    let s = created();
    s = fold(s, 'SomethingNew', { anything: true });
    s = fold(s, EventTypes.SyscallRecorded, { totally: 'different' }, 9);
    expect(s).toMatchObject({ version: 3, faults: 0 });
  });

  it('folds a version 2 syscall (reads record a digest) like version 1', () => {
    const s = fold(
      created(),
      EventTypes.SyscallRecorded,
      {
        ...syscallData({
          syscall: 'SYS_READ',
          result: { success: true, returnValue: null, errorCode: null, errorMessage: null },
        }),
        returned: { kind: 'content', bytes: 5, sha256: 'a'.repeat(64), encoding: 'utf8' },
      },
      2,
    );
    expect(s.counters.syscalls).toBe(1);
    expect(s.faults).toBe(0);
  });

  it('survives a snapshot round trip unchanged', () => {
    let s = syscall(created(), { kernel: { op: 'sigaction', signal: 'SIGUSR1', disposition: 'handle' } });
    s = deliver(s, 'SIGSTOP');
    const back = fromAgentSnapshot(JSON.parse(JSON.stringify(toAgentSnapshot(s))));
    expect(agentDigest(back)).toBe(agentDigest(s));
    expect(back.dispositions.get('SIGUSR1')).toBe('handle');
  });
});
