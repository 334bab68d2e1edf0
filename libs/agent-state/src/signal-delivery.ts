import {
  DEFAULT_ACTIONS,
  SIGNALS,
  UNMASKABLE,
  type LifecycleState,
  type SignalDeliveredV1,
  type SignalName,
} from '#contracts';
import type { AgentState } from './agent-state.js';

export interface SignalRequest {
  signal: SignalName;
  source: string;
  reason: string;
  at: string;
}

/**
 * What delivering a signal does, as the events to record (the seed's signals.py rules, with
 * SIGPOLICY as unoverridable as SIGKILL). Pure: the caller appends the events and folds them.
 *
 * - blocked (maskable and masked): queued, nothing else;
 * - disposition `ignore` (maskable only): recorded, nothing else;
 * - disposition `handle`: left to the agent's handler (published), no default action, except
 *   SIGCONT, which always resumes a stopped agent;
 * - default: STOP/INT/BUDGET stop, CONT resumes, TERM/KILL terminate, POLICY/TRUST escalate to
 *   SIGKILL (two events), USR1/USR2/LOOP/DRIFT have no action.
 *
 * A terminated agent receives nothing: the result is empty.
 */
export function deliverSignal(state: AgentState, req: SignalRequest, fromPending = false): SignalDeliveredV1[] {
  if (state.lifecycle === 'terminated') return [];
  const base = {
    signal: req.signal,
    number: SIGNALS[req.signal],
    source: req.source,
    reason: req.reason,
    at: req.at,
    ...(fromPending ? { fromPending: true } : {}),
  };
  const maskable = !UNMASKABLE.has(req.signal);
  if (maskable && !fromPending && state.blocked.includes(req.signal)) {
    return [{ ...base, outcome: 'blocked' }];
  }
  const disposition = maskable ? (state.dispositions.get(req.signal) ?? 'default') : 'default';
  if (disposition === 'ignore') return [{ ...base, outcome: 'ignored' }];
  const action = DEFAULT_ACTIONS[req.signal];
  if (disposition === 'handle') {
    const resumes = action === 'continue' && state.lifecycle === 'stopped';
    return [{ ...base, outcome: 'handled', ...(resumes ? { transition: 'running' as const } : {}) }];
  }
  switch (action) {
    case 'escalate':
      return [
        { ...base, outcome: 'escalated' },
        {
          signal: 'SIGKILL',
          number: SIGNALS.SIGKILL,
          source: 'kernel',
          reason: `escalated from ${req.signal}${req.reason ? `: ${req.reason}` : ''}`,
          at: req.at,
          outcome: 'default',
          transition: 'terminated',
        },
      ];
    case 'terminate':
      return [{ ...base, outcome: 'default', transition: 'terminated' }];
    case 'stop':
      return [{ ...base, outcome: 'default', ...transitionTo(state.lifecycle, 'stopped') }];
    case 'continue':
      return [{ ...base, outcome: 'default', ...transitionTo(state.lifecycle, 'running') }];
    default:
      return [{ ...base, outcome: 'default' }];
  }
}

function transitionTo(from: LifecycleState, to: LifecycleState): { transition?: LifecycleState } {
  return from === to ? {} : { transition: to };
}

/** Lifecycle after applying delivery events in order (the last transition wins). */
export function lifecycleAfter(state: AgentState, events: SignalDeliveredV1[]): LifecycleState {
  let l = state.lifecycle;
  for (const e of events) if (e.transition && l !== 'terminated') l = e.transition;
  return l;
}
