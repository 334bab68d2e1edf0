import { Injectable } from '@nestjs/common';
import {
  AGENT_ID_PATTERN,
  ErrorCode,
  SIGNALS,
  clip,
  UNMASKABLE,
  parseSignal,
  type Disposition,
  type SignalName,
} from '#contracts';
import { planDeliveries } from '#agent-state';
import { AgentStateCache } from '../../agents/agent-state.cache.js';
import { fail, ok, outcome, type HandlerContext, type HandlerOutcome } from '../syscall-outcome.js';

const DISPOSITIONS: Disposition[] = ['default', 'ignore', 'handle'];

/** SYS_SIGNAL, SYS_SIGACTION and SYS_SIGPROCMASK (the seed's signals.py semantics). */
@Injectable()
export class SignalHandlers {
  constructor(private readonly agents: AgentStateCache) {}

  /** `{target?, signal, reason?}`: true when delivered, false when the target was already terminated. */
  async signal(c: HandlerContext): Promise<HandlerOutcome> {
    const { args } = c;
    if (args.signal === undefined || args.signal === null)
      return outcome(fail(ErrorCode.MISSING_ARGUMENT, 'No signal specified'));
    const signal = parseSignal(args.signal);
    if (!signal) return outcome(fail(ErrorCode.INVALID_REQUEST, `Unknown signal: ${clip(String(args.signal), 32)}`));
    const target = args.target === undefined || args.target === null ? c.agentId : args.target;
    if (typeof target !== 'string' || !AGENT_ID_PATTERN.test(target)) {
      return outcome(fail(ErrorCode.INVALID_REQUEST, 'target must be an agentId'));
    }
    if (args.reason !== undefined && typeof args.reason !== 'string') {
      return outcome(fail(ErrorCode.INVALID_REQUEST, 'reason must be a string'));
    }
    const req = { signal, source: c.agentId, reason: clip((args.reason as string) ?? '', 1024), at: c.at };
    if (target === c.agentId) {
      const plan = planDeliveries(c.state, [{ req }]);
      return outcome(ok(plan.events.length > 0), {
        deliveries: [
          { agentId: c.agentId, baseVersion: c.state.version, events: plan.events, stateAfter: plan.stateAfter },
        ],
      });
    }
    const t = await this.agents.get(target);
    if (!t.state) return outcome(fail(ErrorCode.NOT_REGISTERED, `Target agent not found: ${target}`));
    const plan = planDeliveries(t.state, [{ req }]);
    return outcome(ok(plan.events.length > 0), {
      deliveries: plan.events.length
        ? [{ agentId: target, baseVersion: t.version, events: plan.events, stateAfter: plan.stateAfter }]
        : [],
    });
  }

  /** `{signal, action: default|ignore|handle}` → the previous disposition. */
  sigaction(c: HandlerContext): HandlerOutcome {
    const { args } = c;
    if (args.signal === undefined || args.signal === null)
      return outcome(fail(ErrorCode.MISSING_ARGUMENT, 'No signal specified'));
    const signal = parseSignal(args.signal);
    if (!signal) return outcome(fail(ErrorCode.INVALID_REQUEST, `Unknown signal: ${clip(String(args.signal), 32)}`));
    const action = args.action ?? args.handler;
    if (action === undefined)
      return outcome(fail(ErrorCode.MISSING_ARGUMENT, 'No action specified (default, ignore or handle)'));
    if (typeof action !== 'string' || !DISPOSITIONS.includes(action as Disposition)) {
      return outcome(fail(ErrorCode.INVALID_REQUEST, 'action must be default, ignore or handle'));
    }
    if (UNMASKABLE.has(signal) && action !== 'default') {
      return outcome(fail(ErrorCode.INVALID_REQUEST, `${signal} cannot be ignored or handled`));
    }
    const previous = c.state.dispositions.get(signal) ?? 'default';
    return outcome(ok(previous), { kernel: { op: 'sigaction', signal, disposition: action as Disposition } });
  }

  /**
   * `{how: block|unblock|setmask, signals: [...]}` → `{blocked, delivered}`. Unblocking delivers
   * the queued signals that are no longer blocked, oldest first.
   */
  sigprocmask(c: HandlerContext): HandlerOutcome {
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
}
