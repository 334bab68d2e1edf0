import {
  AGENT_ID_PATTERN,
  ErrorCode,
  SIGNALS,
  UNMASKABLE,
  clip,
  parseSignal,
  type Disposition,
  type SignalName,
} from '#contracts';
import { planDeliveries, type AgentState } from '#agent-state';
import { fail, ok, outcome, type HandlerOutcome } from '../syscall-outcome.js';
import type { HandlerContext } from './handler-context.js';

const DISPOSITIONS: readonly string[] = ['default', 'ignore', 'handle'];

/** SYS_SIGNAL's target: the caller when absent; otherwise an agent id, or a -5/1 failure. */
export function signalTarget(c: HandlerContext): { target: string } | { failed: HandlerOutcome } {
  const { args } = c;
  if (args.signal === undefined || args.signal === null)
    return { failed: outcome(fail(ErrorCode.MISSING_ARGUMENT, 'No signal specified')) };
  if (!parseSignal(args.signal))
    return { failed: outcome(fail(ErrorCode.INVALID_REQUEST, `Unknown signal: ${clip(String(args.signal), 32)}`)) };
  const target = args.target === undefined || args.target === null ? c.agentId : args.target;
  if (typeof target !== 'string' || !AGENT_ID_PATTERN.test(target)) {
    return { failed: outcome(fail(ErrorCode.INVALID_REQUEST, 'target must be an agentId')) };
  }
  if (args.reason !== undefined && typeof args.reason !== 'string') {
    return { failed: outcome(fail(ErrorCode.INVALID_REQUEST, 'reason must be a string')) };
  }
  return { target };
}

/**
 * `{target?, signal, reason?}`: true when delivered, false when the target was already
 * terminated. `targetState` is the target's state (the caller's own for itself; null: no such agent).
 */
export function signal(c: HandlerContext, target: string, targetState: AgentState | null): HandlerOutcome {
  const name = parseSignal(c.args.signal)!;
  if (!targetState) return outcome(fail(ErrorCode.NOT_REGISTERED, `Target agent not found: ${target}`));
  const req = { signal: name, source: c.agentId, reason: clip((c.args.reason as string) ?? '', 1024), at: c.at };
  const plan = planDeliveries(targetState, [{ req }]);
  const deliveries =
    plan.events.length > 0 || target === c.agentId
      ? [
          {
            agentId: target,
            baseVersion: targetState.version,
            events: plan.events,
            stateAfter: plan.stateAfter,
            sent: { target, ...req },
          },
        ]
      : [];
  return outcome(ok(plan.events.length > 0), { deliveries });
}

/** `{signal, action: default|ignore|handle}` → the previous disposition. */
export function sigaction(c: HandlerContext): HandlerOutcome {
  const { args } = c;
  if (args.signal === undefined || args.signal === null)
    return outcome(fail(ErrorCode.MISSING_ARGUMENT, 'No signal specified'));
  const name = parseSignal(args.signal);
  if (!name) return outcome(fail(ErrorCode.INVALID_REQUEST, `Unknown signal: ${clip(String(args.signal), 32)}`));
  const action = args.action ?? args.handler;
  if (action === undefined)
    return outcome(fail(ErrorCode.MISSING_ARGUMENT, 'No action specified (default, ignore or handle)'));
  if (typeof action !== 'string' || !DISPOSITIONS.includes(action)) {
    return outcome(fail(ErrorCode.INVALID_REQUEST, 'action must be default, ignore or handle'));
  }
  if (UNMASKABLE.has(name) && action !== 'default') {
    return outcome(fail(ErrorCode.INVALID_REQUEST, `${name} cannot be ignored or handled`));
  }
  const previous = c.state.dispositions.get(name) ?? 'default';
  return outcome(ok(previous), { kernel: { op: 'sigaction', signal: name, disposition: action as Disposition } });
}

/**
 * `{how: block|unblock|setmask, signals: [...]}` → `{blocked, delivered}`. Unblocking delivers
 * the queued signals that are no longer blocked, oldest first.
 */
export function sigprocmask(c: HandlerContext): HandlerOutcome {
  const { args, state } = c;
  const how = args.how ?? 'block';
  if (how !== 'block' && how !== 'unblock' && how !== 'setmask') {
    return outcome(fail(ErrorCode.INVALID_REQUEST, 'how must be block, unblock or setmask'));
  }
  if (args.signals === undefined || args.signals === null) {
    return outcome(fail(ErrorCode.MISSING_ARGUMENT, 'No signals specified'));
  }
  const raw = Array.isArray(args.signals) ? args.signals : [args.signals];
  if (raw.length > 32) return outcome(fail(ErrorCode.INVALID_REQUEST, 'too many signals'));
  const named: SignalName[] = [];
  for (const r of raw) {
    const s = parseSignal(r);
    if (!s) return outcome(fail(ErrorCode.INVALID_REQUEST, `Unknown signal: ${clip(String(r), 32)}`));
    if (UNMASKABLE.has(s) && how !== 'unblock')
      return outcome(fail(ErrorCode.INVALID_REQUEST, `${s} cannot be blocked`));
    named.push(s);
  }
  const current = new Set(state.blocked);
  let next: Set<SignalName>;
  if (how === 'block') next = new Set([...current, ...named]);
  else if (how === 'unblock') next = new Set([...current].filter((s) => !named.includes(s)));
  else next = new Set(named);
  const blocked = [...next].sort((a, b) => SIGNALS[a] - SIGNALS[b]);

  const afterMask = { ...state, blocked };
  const released = state.pending.filter((p) => !next.has(p.signal));
  const plan = planDeliveries(
    afterMask,
    released.map((p) => ({
      req: { signal: p.signal, source: p.source, reason: p.reason, at: c.at },
      fromPending: true,
    })),
  );
  return outcome(ok({ blocked, delivered: released.map((p) => p.signal) }), {
    kernel: { op: 'sigprocmask', blocked },
    deliveries: plan.events.length
      ? [{ agentId: c.agentId, baseVersion: state.version, events: plan.events, stateAfter: plan.stateAfter }]
      : [],
  });
}
