import type { Disposition, FilesBase, LifecycleState, SignalName } from '#contracts';

export interface PendingSignal {
  signal: SignalName;
  source: string;
  reason: string;
}

export interface AgentCounters {
  syscalls: number;
  /** Syscalls refused by policy (allowed: false). */
  violations: number;
  /** Would-be violations allowed by an audit (shadow) rule. */
  shadowViolations: number;
  /** Syscalls whose decision went through a policy (permissive mode counts too). */
  policyChecks: number;
  /** Syscalls that failed (success: false) for any reason. */
  failed: number;
  /** Handler errors (-4): the agent crashed the handler, the kernel survived. */
  crashes: number;
  signalsReceived: number;
}

/**
 * Allowed syscalls per action and minute of the log's clock (`[minute since epoch, count]`),
 * for the last hour: rate limits are derived from these, so they are the same after a restart
 * and on every replica. Windows are fixed (a per-minute limit counts the current minute). A Map,
 * because action names come from agents (a tool may be called `__proto__`).
 */
export type ActionUsage = Map<string, [minute: number, count: number][]>;

/** An event of the agent's stream that the fold could not apply (written before the recorder checked schemas, or tampered with). */
export interface FoldFault {
  position: number;
  type: string;
  reason: string;
}

/**
 * Everything the kernel knows about an agent, folded from the agent's stream and nothing else
 * (invariant 3). Folded in place: the cache owns its state, a decision reads it under the
 * agent's lock, and whoever needs a private copy takes `cloneAgentState`.
 */
export interface AgentState {
  agentId: string;
  role: string;
  createdAt: string;
  /** Stream version of the last folded event. */
  version: number;
  /** Global position of the last folded event. */
  position: number;
  lifecycle: LifecycleState;
  exitCode: number | null;
  /** What ended the agent: exit, SIGKILL, SIGTERM, destroyed. */
  terminatedBy: string | null;
  /** Blocked (masked) signals, sorted by number. */
  blocked: SignalName[];
  /** Signals delivered while blocked, oldest first. */
  pending: PendingSignal[];
  /** Dispositions that differ from the default. */
  dispositions: Map<SignalName, Disposition>;
  counters: AgentCounters;
  /** Newest policy version that decided a syscall of this agent (decisions never go back in version). */
  lastPolicyVersion: number | null;
  usage: ActionUsage;
  /** Time of the last folded event (ISO), the clock rate windows are pruned against. */
  lastEventAt: string;
  /** Public keys of NATS credentials issued to the agent and not revoked, oldest first. */
  credentials: string[];
  /**
   * The last event that changed the agent's files: its stream version (0: none yet) and id. The
   * VFS service decides a file syscall on the files as of exactly this event.
   */
  files: FilesBase;
  /** Events the fold could not apply: their version counts, nothing else changed. */
  faults: number;
  lastFault: FoldFault | null;
}

export const USAGE_HORIZON_MINUTES = 60;

export function newAgentState(
  agentId: string,
  role: string,
  at: string,
  version: number,
  position: number,
): AgentState {
  return {
    agentId,
    role,
    createdAt: at,
    version,
    position,
    lifecycle: 'running',
    exitCode: null,
    terminatedBy: null,
    blocked: [],
    pending: [],
    dispositions: new Map(),
    counters: {
      syscalls: 0,
      violations: 0,
      shadowViolations: 0,
      policyChecks: 0,
      failed: 0,
      crashes: 0,
      signalsReceived: 0,
    },
    lastPolicyVersion: null,
    usage: new Map(),
    lastEventAt: at,
    credentials: [],
    files: { version: 0, eventId: null },
    faults: 0,
    lastFault: null,
  };
}

/** A deep copy: folding into it never changes the original. */
export function cloneAgentState(s: AgentState): AgentState {
  const usage: ActionUsage = new Map();
  for (const [action, buckets] of s.usage)
    usage.set(
      action,
      buckets.map(([m, c]) => [m, c]),
    );
  return {
    ...s,
    blocked: [...s.blocked],
    pending: s.pending.map((p) => ({ ...p })),
    dispositions: new Map(s.dispositions),
    counters: { ...s.counters },
    usage,
    credentials: [...s.credentials],
    files: { ...s.files },
    lastFault: s.lastFault ? { ...s.lastFault } : null,
  };
}
