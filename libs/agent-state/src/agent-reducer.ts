import {
  EventTypes,
  SIGNALS,
  isVfsEffectV1,
  recordedFileEffect,
  type Disposition,
  type LifecycleState,
  type SignalName,
} from '#contracts';
import { USAGE_HORIZON_MINUTES, newAgentState, type ActionUsage, type AgentState } from './agent-state.js';

/** The part of a recorded event the reducer needs. */
export interface FoldableEvent {
  type: string;
  schemaVersion: number;
  data: unknown;
  streamVersion: number;
  position: number;
  /** The event's id: the VFS service is told which event made the agent's files what they are. */
  eventId?: string;
}

type Data = Record<string, unknown>;

/** Thrown by the field readers below; caught in evolveAgent and recorded as a fault. */
class Unfoldable extends Error {}

/**
 * Folds one event of an agent's stream into `state`, in place, and returns it (or the new state
 * AgentCreated begins). Total: it never throws on recorded data. An event whose shape it cannot
 * apply (a log written before the recorder checked schemas, or tampered with) advances the
 * version and is counted in `faults`, so the agent stays usable and says what happened. Events of
 * unknown types or schema versions only advance the version: a newer writer never breaks an
 * older reader.
 */
export function evolveAgent(state: AgentState | null, e: FoldableEvent): AgentState | null {
  if (e.type === EventTypes.AgentCreated && state === null) {
    const d = asData(e.data);
    const agentId = typeof d?.agentId === 'string' ? d.agentId : '';
    const role = typeof d?.role === 'string' ? d.role : '';
    const at = typeof d?.at === 'string' ? d.at : '';
    const s = newAgentState(agentId, role, at, e.streamVersion, e.position);
    if (!agentId || !role || !at) fault(s, e, 'AgentCreated without agentId, role and at');
    return s;
  }
  if (state === null) return null;
  state.version = e.streamVersion;
  state.position = e.position;
  // the files' base follows the same rule as the VFS fold, whatever else this event holds
  if (recordedFileEffect(e.type, e.schemaVersion, e.data))
    state.files = { version: e.streamVersion, eventId: e.eventId ?? null };
  try {
    const d = asData(e.data);
    if (d === null) {
      if (isKnown(e)) throw new Unfoldable('data is not an object');
      return state;
    }
    switch (e.type) {
      case EventTypes.SyscallRecorded:
        if (e.schemaVersion === 1 || e.schemaVersion === 2) evolveSyscall(state, d);
        break;
      case EventTypes.SignalDelivered:
        if (e.schemaVersion === 1) evolveSignal(state, d);
        break;
      case EventTypes.AgentDestroyed:
        if (e.schemaVersion === 1) {
          state.lifecycle = 'terminated';
          state.terminatedBy = 'destroyed';
          state.lastEventAt = text(d, 'at');
        }
        break;
      case EventTypes.CredentialIssued:
        if (e.schemaVersion === 1) {
          const key = text(d, 'publicKey');
          state.lastEventAt = text(d, 'at');
          if (!state.credentials.includes(key)) state.credentials.push(key);
        }
        break;
      case EventTypes.CredentialRevoked:
        if (e.schemaVersion === 1) {
          const key = text(d, 'publicKey');
          state.lastEventAt = text(d, 'at');
          state.credentials = state.credentials.filter((k) => k !== key);
        }
        break;
      case EventTypes.AgentCreated:
        throw new Unfoldable('a second AgentCreated');
    }
  } catch (err) {
    if (!(err instanceof Unfoldable)) throw err;
    fault(state, e, err.message);
  }
  return state;
}

/** Folds a stream's events in order (tests, replay, what-if). */
export function foldAgent(events: Iterable<FoldableEvent>, state: AgentState | null = null): AgentState | null {
  let s = state;
  for (const e of events) s = evolveAgent(s, e);
  return s;
}

function evolveSyscall(s: AgentState, d: Data): void {
  // Read and check everything first, then change the state: a fault leaves it as it was.
  const at = text(d, 'at');
  const minute = minuteOf(at);
  if (!Number.isFinite(minute)) throw new Unfoldable(`at is not a time: ${at.slice(0, 40)}`);
  const decision = record(d, 'decision');
  const result = record(d, 'result');
  const allowed = bool(decision, 'allowed');
  const mode = text(decision, 'mode');
  const shadow = bool(decision, 'shadow');
  const policyVersion = decision.policyVersion;
  if (policyVersion !== null && !Number.isSafeInteger(policyVersion))
    throw new Unfoldable('decision.policyVersion is not an integer');
  const action = decision.action;
  if (action !== null && typeof action !== 'string') throw new Unfoldable('decision.action is not a string');
  const success = bool(result, 'success');
  const errorCode = result.errorCode;
  const change = success && d.kernel !== undefined ? kernelEffect(d.kernel) : null;
  // the VFS folds the file effect; a shape it cannot fold is reported here, on the agent
  if (success && d.vfs !== undefined && !isVfsEffectV1(d.vfs)) throw new Unfoldable('vfs effect has no known shape');

  s.lastEventAt = at;
  const c = s.counters;
  c.syscalls += 1;
  if (!success) c.failed += 1;
  if (errorCode === -4) c.crashes += 1;
  if (mode !== 'skipped') c.policyChecks += 1;
  if (!allowed && mode !== 'skipped') c.violations += 1;
  if (shadow) c.shadowViolations += 1;
  if (policyVersion !== null) s.lastPolicyVersion = Math.max(s.lastPolicyVersion ?? 0, policyVersion as number);
  if (allowed && mode !== 'skipped' && action) countUsage(s.usage, action, minute);
  change?.(s);
}

/** A recorded kernel effect as a change to apply, or a fault. */
function kernelEffect(raw: unknown): (s: AgentState) => void {
  const k = asData(raw);
  if (k === null) throw new Unfoldable('kernel effect is not an object');
  switch (k.op) {
    case 'exit': {
      const code = k.code;
      if (!Number.isSafeInteger(code)) throw new Unfoldable('exit code is not an integer');
      return (s) => {
        s.lifecycle = 'terminated';
        s.exitCode = code as number;
        s.terminatedBy = 'exit';
      };
    }
    case 'sigaction': {
      const signal = signalName(k.signal);
      const disposition = k.disposition;
      if (disposition !== 'default' && disposition !== 'ignore' && disposition !== 'handle')
        throw new Unfoldable('sigaction disposition is not default, ignore or handle');
      return (s) => {
        if (disposition === 'default') s.dispositions.delete(signal);
        else s.dispositions.set(signal, disposition as Disposition);
      };
    }
    case 'sigprocmask': {
      if (!Array.isArray(k.blocked) || k.blocked.length > 32) throw new Unfoldable('sigprocmask blocked is not a list');
      const blocked = [...new Set(k.blocked.map(signalName))].sort((a, b) => SIGNALS[a] - SIGNALS[b]);
      return (s) => {
        s.blocked = blocked;
      };
    }
    default:
      return () => undefined; // an effect of a newer kernel: nothing this fold knows to change
  }
}

function evolveSignal(s: AgentState, d: Data): void {
  const signal = signalName(d.signal);
  const at = text(d, 'at');
  const outcome = text(d, 'outcome');
  const transition = d.transition;
  if (transition !== undefined && !isLifecycle(transition)) throw new Unfoldable('transition is not a lifecycle state');
  const source = typeof d.source === 'string' ? d.source : '';
  const reason = typeof d.reason === 'string' ? d.reason : '';

  s.lastEventAt = at;
  s.counters.signalsReceived += 1;
  if (d.fromPending === true) {
    const i = s.pending.findIndex((p) => p.signal === signal);
    if (i >= 0) s.pending.splice(i, 1);
  }
  if (outcome === 'blocked') {
    s.pending.push({ signal, source, reason });
    return;
  }
  if (transition && s.lifecycle !== 'terminated') {
    s.lifecycle = transition;
    if (transition === 'terminated') s.terminatedBy = signal;
  }
}

/**
 * One more use of `action` in `minute`. Within a minute only that action's last bucket changes;
 * when a new minute starts, buckets that fell out of the horizon (on the log's clock) go.
 */
function countUsage(usage: ActionUsage, action: string, minute: number): void {
  const buckets = usage.get(action);
  const last = buckets?.[buckets.length - 1];
  if (last && last[0] === minute) {
    last[1] += 1;
    return;
  }
  const horizon = minute - USAGE_HORIZON_MINUTES;
  for (const [a, b] of usage) {
    if (b[0][0] > horizon) continue;
    const kept = b.filter(([m]) => m > horizon);
    if (kept.length) usage.set(a, kept);
    else usage.delete(a);
  }
  const list = usage.get(action);
  if (list) list.push([minute, 1]);
  else usage.set(action, [[minute, 1]]);
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
  for (const [a, buckets] of state.usage) {
    if (!actions(a)) continue;
    for (const [m, c] of buckets) if (m >= from) n += c;
  }
  return n;
}

function fault(s: AgentState, e: FoldableEvent, reason: string): void {
  s.faults += 1;
  s.lastFault = { position: e.position, type: String(e.type).slice(0, 128), reason };
}

function isKnown(e: FoldableEvent): boolean {
  return (
    (e.type === EventTypes.SyscallRecorded && (e.schemaVersion === 1 || e.schemaVersion === 2)) ||
    ((e.type === EventTypes.SignalDelivered ||
      e.type === EventTypes.AgentDestroyed ||
      e.type === EventTypes.CredentialIssued ||
      e.type === EventTypes.CredentialRevoked) &&
      e.schemaVersion === 1)
  );
}

function asData(x: unknown): Data | null {
  return x !== null && typeof x === 'object' && !Array.isArray(x) ? (x as Data) : null;
}

function record(d: Data, key: string): Data {
  const v = asData(Object.hasOwn(d, key) ? d[key] : undefined);
  if (v === null) throw new Unfoldable(`${key} is not an object`);
  return v;
}

function text(d: Data, key: string): string {
  const v = Object.hasOwn(d, key) ? d[key] : undefined;
  if (typeof v !== 'string') throw new Unfoldable(`${key} is not a string`);
  return v;
}

function bool(d: Data, key: string): boolean {
  const v = Object.hasOwn(d, key) ? d[key] : undefined;
  if (typeof v !== 'boolean') throw new Unfoldable(`${key} is not a boolean`);
  return v;
}

const SIGNAL_NAMES: ReadonlySet<string> = new Set(Object.keys(SIGNALS));

function signalName(x: unknown): SignalName {
  if (typeof x !== 'string' || !SIGNAL_NAMES.has(x))
    throw new Unfoldable(`not a signal name: ${String(x).slice(0, 32)}`);
  return x as SignalName;
}

function isLifecycle(x: unknown): x is LifecycleState {
  return x === 'running' || x === 'stopped' || x === 'terminated';
}

/**
 * `Math.floor(Date.parse(at) / 60_000)`, memoised on the minute prefix: consecutive events of a
 * log mostly share their minute, and Date.parse was a tenth of a replay. Only the recorder's own
 * form `YYYY-MM-DDTHH:MM:SS.sssZ` is memoised, and only once Date.parse has shown for that prefix
 * that seconds and milliseconds are read as written (so no other second of the minute can be
 * read differently); any other text goes through Date.parse as before, NaN included.
 */
let memoPrefix = '';
let memoMinute = 0;

export function minuteOf(at: string): number {
  const tail = isoTail(at);
  if (tail >= 0 && memoPrefix !== '' && at.startsWith(memoPrefix)) return memoMinute;
  const ms = Date.parse(at);
  const minute = Math.floor(ms / 60_000);
  // hour 24 is valid only at 24:00:00.000; leave it (and anything odd) to Date.parse every time
  if (tail >= 0 && Number.isFinite(minute) && ms - minute * 60_000 === tail && !at.startsWith('24', 11)) {
    memoPrefix = at.slice(0, 16);
    memoMinute = minute;
  }
  return minute;
}

/** Milliseconds into the minute if `at` ends like `:SS.sssZ` (SS 00-59) at length 24 with a 'T' at 10, else -1. */
function isoTail(at: string): number {
  if (at.length !== 24 || at.charCodeAt(10) !== 84 /* T */ || at.charCodeAt(16) !== 58 /* : */) return -1;
  if (at.charCodeAt(19) !== 46 /* . */ || at.charCodeAt(23) !== 90 /* Z */) return -1;
  const s1 = at.charCodeAt(17) - 48;
  const s2 = at.charCodeAt(18) - 48;
  const m1 = at.charCodeAt(20) - 48;
  const m2 = at.charCodeAt(21) - 48;
  const m3 = at.charCodeAt(22) - 48;
  if (s1 < 0 || s1 > 5 || s2 < 0 || s2 > 9 || m1 < 0 || m1 > 9 || m2 < 0 || m2 > 9 || m3 < 0 || m3 > 9) return -1;
  return (s1 * 10 + s2) * 1000 + m1 * 100 + m2 * 10 + m3;
}
