import {
  ErrorCode,
  isVfsSyscall,
  policyActionFor,
  policyArgsFor,
  type DecisionV1,
  type ReturnedContentV2,
  type SyscallResultV1,
  type VfsEffectV1,
} from '#contracts';
import { planDeliveries, type AgentState } from '#agent-state';
import type { HandlerContext } from './handlers/handler-context.js';
import { checkPolicy, getPolicy } from './handlers/policy-handlers.js';
import { exec, exit, toolCall, type ToolCall } from './handlers/process-handlers.js';
import { sigaction, signal, signalTarget, sigprocmask } from './handlers/signal-handlers.js';
import { decidePolicy, policyMode, type PolicyInForce } from './policy-in-force.js';
import { isKnownSyscall, type SyscallEnvelope } from './syscall-envelope.js';
import { fail, outcome, type HandlerOutcome } from './syscall-outcome.js';

/** The VFS service's answer to a file syscall decided at the agent's files as the kernel knows them. */
export type FileAnswer =
  | { kind: 'result'; result: SyscallResultV1; effect?: VfsEffectV1; returned?: ReturnedContentV2 }
  /** The VFS knows a later state of the files than this decision's: reload and decide again. */
  | { kind: 'stale' }
  | { kind: 'unavailable'; message: string }
  /** The VFS answered nonsense: the handler failed (-4, recorded; the kernel survives). */
  | { kind: 'broken'; message: string };

/** What a decision needed from outside and got: each is asked for by a `need`, then passed in. */
export interface Outside {
  file?: FileAnswer;
  /** Whether the tool is registered, and its provider's result when it is. */
  tool?: { registered: boolean; result?: SyscallResultV1 };
  /** The target agent's state (SYS_SIGNAL to another agent); null: no such agent. */
  target?: AgentState | null;
}

export type Need = { kind: 'file' } | { kind: 'tool'; call: ToolCall } | { kind: 'target'; agentId: string };

export interface SyscallInput {
  agentId: string;
  requestId: string;
  envelope: SyscallEnvelope;
  /** The agent as its stream recorded it (never changed here). */
  state: AgentState;
  policy: PolicyInForce;
  /** Decision time: the only clock a decision (and later its replay) uses. */
  at: string;
  outside: Outside;
}

export type SyscallDecision =
  | { kind: 'need'; need: Need }
  | { kind: 'decided'; decision: DecisionV1; outcome: HandlerOutcome }
  | { kind: 'stale' }
  | { kind: 'unavailable'; message: string };

/** The decision of a request that never reached the policy stage. */
export const SKIPPED: Readonly<DecisionV1> = Object.freeze({
  allowed: true,
  mode: 'skipped',
  action: null,
  policyVersion: null,
  rule: null,
  reason: null,
  shadow: false,
  onViolation: null,
});

/**
 * Decides one syscall in the seed's order: terminated (-1), stopped (-6), malformed (-5), policy
 * (-2, with SIGPOLICY when the rule kills), no handler (-3), then the handler. Pure: what it
 * needs from outside (the VFS's answer, a tool's result, another agent's state) it asks for with
 * a `need`; the caller gets it and decides again with it in `outside`, with the same `at`.
 */
export function decideSyscall(i: SyscallInput): SyscallDecision {
  const { state, envelope: env } = i;
  if (state.lifecycle === 'terminated') return skipped(fail(ErrorCode.TERMINATED, 'Agent has been terminated'));
  if (state.lifecycle === 'stopped') return skipped(fail(ErrorCode.STOPPED, 'Agent is stopped; it resumes on SIGCONT'));
  if (!isKnownSyscall(env)) {
    return skipped(fail(ErrorCode.INVALID_REQUEST, `Invalid request: ${env.problem ?? 'unknown syscall'}`));
  }
  const c: HandlerContext = {
    agentId: i.agentId,
    requestId: i.requestId,
    syscall: env.syscall,
    args: env.args,
    state,
    at: i.at,
    policy: i.policy,
  };
  const action = policyActionFor(env.syscall, env.args);

  if (env.syscall === 'SYS_CHECKPOLICY') {
    // Checking a policy never violates one (the seed killed agents for asking).
    const decision: DecisionV1 = {
      ...SKIPPED,
      mode: policyMode(i.policy),
      action,
      policyVersion: i.policy.compiled || i.policy.unusable ? i.policy.version : null,
      reason: 'SYS_CHECKPOLICY never violates',
    };
    return { kind: 'decided', decision, outcome: checkPolicy(c) };
  }

  const decision = decidePolicy(
    {
      agentId: i.agentId,
      role: state.role,
      action,
      syscall: env.syscall,
      args: policyArgsFor(env.syscall, env.args),
      state,
      at: i.at,
    },
    i.policy,
  );
  if (!decision.allowed) return { kind: 'decided', decision, outcome: refused(c, decision) };

  const handled = handle(c, i.outside);
  if ('kind' in handled) return handled;
  return { kind: 'decided', decision, outcome: handled };
}

/** -2, and SIGPOLICY (escalating to SIGKILL) when the rule kills. */
function refused(c: HandlerContext, d: DecisionV1): HandlerOutcome {
  const result = fail(ErrorCode.POLICY_VIOLATION, `Policy '${c.syscall}' blocked: ${d.reason ?? 'Access denied'}`);
  if (d.onViolation !== 'kill') return outcome(result);
  const req = { signal: 'SIGPOLICY' as const, source: 'policy', reason: d.reason ?? c.syscall, at: c.at };
  const plan = planDeliveries(c.state, [{ req }]);
  return outcome(result, {
    deliveries: [
      { agentId: c.agentId, baseVersion: c.state.version, events: plan.events, stateAfter: plan.stateAfter },
    ],
  });
}

function handle(c: HandlerContext, outside: Outside): HandlerOutcome | Exclude<SyscallDecision, { kind: 'decided' }> {
  if (isVfsSyscall(c.syscall)) {
    const file = outside.file;
    if (!file) return { kind: 'need', need: { kind: 'file' } };
    if (file.kind === 'stale') return { kind: 'stale' };
    if (file.kind === 'unavailable') return { kind: 'unavailable', message: file.message };
    if (file.kind === 'broken') return outcome(fail(ErrorCode.HANDLER_ERROR, file.message));
    return outcome(file.result, {
      ...(file.effect ? { vfs: file.effect } : {}),
      ...(file.returned ? { returned: file.returned } : {}),
    });
  }
  switch (c.syscall) {
    case 'SYS_SIGNAL': {
      const t = signalTarget(c);
      if ('failed' in t) return t.failed;
      if (t.target === c.agentId) return signal(c, t.target, c.state);
      if (outside.target === undefined) return { kind: 'need', need: { kind: 'target', agentId: t.target } };
      return signal(c, t.target, outside.target);
    }
    case 'SYS_SIGACTION':
      return sigaction(c);
    case 'SYS_SIGPROCMASK':
      return sigprocmask(c);
    case 'SYS_EXIT':
      return exit(c);
    case 'SYS_EXEC': {
      const t = toolCall(c);
      if ('failed' in t) return t.failed;
      if (!outside.tool) return { kind: 'need', need: { kind: 'tool', call: t.call } };
      return exec(t.call, outside.tool.registered, outside.tool.result);
    }
    case 'SYS_GETPOLICY':
      return getPolicy(c);
    default:
      return outcome(fail(ErrorCode.NO_HANDLER, `Unknown syscall: ${c.syscall}`));
  }
}

function skipped(result: SyscallResultV1): SyscallDecision {
  return { kind: 'decided', decision: SKIPPED, outcome: outcome(result) };
}
