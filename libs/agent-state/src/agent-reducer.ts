import {
  EventTypes,
  SIGNALS,
  type AgentCreatedV1,
  type AgentDestroyedV1,
  type SignalDeliveredV1,
  type SyscallRecordedV1,
} from '#contracts';
import { RATE_HORIZON_MS, newAgentState, type AgentState } from './agent-state.js';

/** The part of a recorded event the reducer needs. */
export interface FoldableEvent {
  type: string;
  schemaVersion: number;
  data: unknown;
  streamVersion: number;
  position: number;
}

/**
 * Folds one event of an agent's stream into its state (mutating `state`, or creating it from
 * AgentCreated). Events of unknown types or newer schema versions than this code knows are
 * skipped for lifecycle purposes but still advance the version, so a newer writer never breaks
 * an older reader's cursor.
 */
export function foldAgentEvent(state: AgentState | null, e: FoldableEvent): AgentState | null {
  if (e.type === EventTypes.AgentCreated) {
    const d = e.data as AgentCreatedV1;
    return newAgentState(d.agentId, d.role, d.at, e.streamVersion, e.position);
  }
  if (!state) return null;
  state.version = e.streamVersion;
  state.position = e.position;
  switch (e.type) {
    case EventTypes.SyscallRecorded:
      if (e.schemaVersion === 1) foldSyscall(state, e.data as SyscallRecordedV1);
      break;
    case EventTypes.SignalDelivered:
      if (e.schemaVersion === 1) foldSignal(state, e.data as SignalDeliveredV1);
      break;
    case EventTypes.AgentDestroyed: {
      const d = e.data as AgentDestroyedV1;
      state.lifecycle = 'terminated';
      state.terminatedBy = 'destroyed';
      state.lastEventAt = d.at;
      break;
    }
  }
  return state;
}

function foldSyscall(s: AgentState, d: SyscallRecordedV1): void {
  s.lastEventAt = d.at;
  const c = s.counters;
  c.syscalls += 1;
  if (!d.result.success) c.failed += 1;
  if (d.result.errorCode === -4) c.crashes += 1;
  if (d.decision.mode !== 'skipped') c.policyChecks += 1;
  if (!d.decision.allowed && d.decision.mode !== 'skipped') c.violations += 1;
  if (d.decision.shadow) c.shadowViolations += 1;
  if (d.decision.policyVersion !== null) {
    s.lastPolicyVersion = Math.max(s.lastPolicyVersion ?? 0, d.decision.policyVersion);
  }
  const atMs = Date.parse(d.at);
  if (d.decision.allowed && d.decision.mode !== 'skipped' && d.decision.action) {
    s.recentActions.push({ at: atMs, action: d.decision.action });
  }
  pruneRecent(s, atMs);
  const k = d.kernel;
  if (k && d.result.success) {
    if (k.op === 'exit') {
      s.lifecycle = 'terminated';
      s.exitCode = k.code;
      s.terminatedBy = 'exit';
    } else if (k.op === 'sigaction') {
      if (k.disposition === 'default') delete s.dispositions[k.signal];
      else s.dispositions[k.signal] = k.disposition;
    } else if (k.op === 'sigprocmask') {
      s.blocked = [...k.blocked].sort((a, b) => SIGNALS[a] - SIGNALS[b]);
    }
  }
}

function foldSignal(s: AgentState, d: SignalDeliveredV1): void {
  s.lastEventAt = d.at;
  s.counters.signalsReceived += 1;
  if (d.fromPending) {
    const i = s.pending.findIndex((p) => p.signal === d.signal);
    if (i >= 0) s.pending.splice(i, 1);
  }
  if (d.outcome === 'blocked') {
    s.pending.push({ signal: d.signal, source: d.source, reason: d.reason });
    return;
  }
  if (d.transition && s.lifecycle !== 'terminated') {
    s.lifecycle = d.transition;
    if (d.transition === 'terminated') s.terminatedBy = d.signal;
  }
}

/** Keeps the last hour of actions, measured on the log's own clock (never the wall clock). */
function pruneRecent(s: AgentState, nowMs: number): void {
  const horizon = nowMs - RATE_HORIZON_MS;
  let drop = 0;
  while (drop < s.recentActions.length && s.recentActions[drop].at < horizon) drop += 1;
  if (drop) s.recentActions.splice(0, drop);
}
