import {
  EventTypes,
  SIGNALS,
  type AgentCreatedV1,
  type AgentDestroyedV1,
  type SignalDeliveredV1,
  type SyscallRecordedV1,
} from '#contracts';
import { USAGE_HORIZON_MINUTES, newAgentState, type ActionUsage, type AgentState } from './agent-state.js';

/** The part of a recorded event the reducer needs. */
export interface FoldableEvent {
  type: string;
  schemaVersion: number;
  data: unknown;
  streamVersion: number;
  position: number;
}

/**
 * Folds one event of an agent's stream into a new state (the input is never modified), or
 * creates it from AgentCreated. Events of unknown types or schema versions advance the version
 * and change nothing else, so a newer writer never breaks an older reader.
 */
export function foldAgentEvent(state: AgentState | null, e: FoldableEvent): AgentState | null {
  if (e.type === EventTypes.AgentCreated) {
    const d = e.data as AgentCreatedV1;
    return newAgentState(d.agentId, d.role, d.at, e.streamVersion, e.position);
  }
  if (!state) return null;
  const s: AgentState = { ...state, version: e.streamVersion, position: e.position };
  switch (e.type) {
    case EventTypes.SyscallRecorded:
      if (e.schemaVersion === 1) foldSyscall(s, e.data as SyscallRecordedV1);
      break;
    case EventTypes.SignalDelivered:
      if (e.schemaVersion === 1) foldSignal(s, e.data as SignalDeliveredV1);
      break;
    case EventTypes.AgentDestroyed: {
      const d = e.data as AgentDestroyedV1;
      s.lifecycle = 'terminated';
      s.terminatedBy = 'destroyed';
      s.lastEventAt = d.at;
      break;
    }
  }
  return s;
}

/** `s` is a fresh shallow copy: replace (never mutate) its nested objects. */
function foldSyscall(s: AgentState, d: SyscallRecordedV1): void {
  s.lastEventAt = d.at;
  const c = { ...s.counters };
  s.counters = c;
  c.syscalls += 1;
  if (!d.result.success) c.failed += 1;
  if (d.result.errorCode === -4) c.crashes += 1;
  if (d.decision.mode !== 'skipped') c.policyChecks += 1;
  if (!d.decision.allowed && d.decision.mode !== 'skipped') c.violations += 1;
  if (d.decision.shadow) c.shadowViolations += 1;
  if (d.decision.policyVersion !== null) {
    s.lastPolicyVersion = Math.max(s.lastPolicyVersion ?? 0, d.decision.policyVersion);
  }
  if (d.decision.allowed && d.decision.mode !== 'skipped' && d.decision.action) {
    s.usage = countUsage(s.usage, d.decision.action, Math.floor(Date.parse(d.at) / 60_000));
  }
  const k = d.kernel;
  if (k && d.result.success) {
    if (k.op === 'exit') {
      s.lifecycle = 'terminated';
      s.exitCode = k.code;
      s.terminatedBy = 'exit';
    } else if (k.op === 'sigaction') {
      const dispositions = { ...s.dispositions };
      if (k.disposition === 'default') delete dispositions[k.signal];
      else dispositions[k.signal] = k.disposition;
      s.dispositions = dispositions;
    } else if (k.op === 'sigprocmask') {
      s.blocked = [...k.blocked].sort((a, b) => SIGNALS[a] - SIGNALS[b]);
    }
  }
}

function foldSignal(s: AgentState, d: SignalDeliveredV1): void {
  s.lastEventAt = d.at;
  s.counters = { ...s.counters, signalsReceived: s.counters.signalsReceived + 1 };
  if (d.fromPending) {
    const i = s.pending.findIndex((p) => p.signal === d.signal);
    if (i >= 0) s.pending = [...s.pending.slice(0, i), ...s.pending.slice(i + 1)];
  }
  if (d.outcome === 'blocked') {
    s.pending = [...s.pending, { signal: d.signal, source: d.source, reason: d.reason }];
    return;
  }
  if (d.transition && s.lifecycle !== 'terminated') {
    s.lifecycle = d.transition;
    if (d.transition === 'terminated') s.terminatedBy = d.signal;
  }
}

/**
 * One more use of `action` in `minute`. Within a minute only that action's last bucket changes;
 * when a new minute starts, buckets that fell out of the horizon (on the log's clock) go.
 */
function countUsage(usage: ActionUsage, action: string, minute: number): ActionUsage {
  const b = usage[action];
  const last = b?.[b.length - 1];
  if (b && last && last[0] === minute) {
    const bumped = b.slice();
    bumped[bumped.length - 1] = [minute, last[1] + 1];
    return { ...usage, [action]: bumped };
  }
  const horizon = minute - USAGE_HORIZON_MINUTES;
  const next: ActionUsage = {};
  for (const [a, buckets] of Object.entries(usage)) {
    const kept = buckets[0][0] > horizon ? buckets : buckets.filter(([m]) => m > horizon);
    if (kept.length) next[a] = kept;
  }
  next[action] = [...(next[action] ?? []), [minute, 1]];
  return next;
}

/** Allowed uses of the actions in the last `windowMinutes` minutes (the current one included) as of `atMs`. */
export function usageCount(
  state: AgentState,
  actions: (action: string) => boolean,
  windowMinutes: number,
  atMs: number,
): number {
  const from = Math.floor(atMs / 60_000) - windowMinutes + 1;
  let n = 0;
  for (const [a, buckets] of Object.entries(state.usage)) {
    if (!actions(a)) continue;
    for (const [m, c] of buckets) if (m >= from) n += c;
  }
  return n;
}
