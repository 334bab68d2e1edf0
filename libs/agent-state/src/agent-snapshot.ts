import type { Disposition, FilesBase, LifecycleState, SignalName } from '#contracts';
import type { AgentCounters, AgentState, FoldFault, PendingSignal } from './agent-state.js';

/**
 * An agent's kernel state as plain JSON, for the snapshots table and the digest: maps become
 * arrays of entries sorted by key, so two equal states have byte-equal canonical forms.
 */
export interface AgentSnapshotV3 {
  agentId: string;
  role: string;
  createdAt: string;
  version: number;
  position: number;
  lifecycle: LifecycleState;
  exitCode: number | null;
  terminatedBy: string | null;
  blocked: SignalName[];
  pending: PendingSignal[];
  dispositions: [SignalName, Disposition][];
  counters: AgentCounters;
  lastPolicyVersion: number | null;
  usage: [action: string, buckets: [number, number][]][];
  lastEventAt: string;
  credentials: string[];
  files: FilesBase;
  faults: number;
  lastFault: FoldFault | null;
}

/** Bumped whenever the snapshot's shape changes: older snapshots are then ignored, never misread. */
export const AGENT_SNAPSHOT_SCHEMA = 3;

const byKey = <T>(a: [string, T], b: [string, T]) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

export function toAgentSnapshot(s: AgentState): AgentSnapshotV3 {
  return {
    agentId: s.agentId,
    role: s.role,
    createdAt: s.createdAt,
    version: s.version,
    position: s.position,
    lifecycle: s.lifecycle,
    exitCode: s.exitCode,
    terminatedBy: s.terminatedBy,
    blocked: [...s.blocked],
    pending: s.pending.map((p) => ({ ...p })),
    dispositions: [...s.dispositions].sort(byKey),
    counters: { ...s.counters },
    lastPolicyVersion: s.lastPolicyVersion,
    usage: [...s.usage].sort(byKey).map(([a, b]) => [a, b.map(([m, c]) => [m, c] as [number, number])]),
    lastEventAt: s.lastEventAt,
    credentials: [...s.credentials],
    files: { ...s.files },
    faults: s.faults,
    lastFault: s.lastFault ? { ...s.lastFault } : null,
  };
}

export function fromAgentSnapshot(j: AgentSnapshotV3): AgentState {
  return {
    ...j,
    blocked: [...j.blocked],
    pending: j.pending.map((p) => ({ ...p })),
    dispositions: new Map(j.dispositions),
    counters: { ...j.counters },
    usage: new Map(j.usage.map(([a, b]) => [a, b.map(([m, c]) => [m, c] as [number, number])])),
    credentials: [...j.credentials],
    files: { ...j.files },
    lastFault: j.lastFault ? { ...j.lastFault } : null,
  };
}
