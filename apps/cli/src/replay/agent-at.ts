import { POLICY_STREAM, Subjects, agentStream, type LifecycleState } from '#contracts';
import type { AgentState } from '#agent-state';
import type { RecordedEvent } from '#event-store';
import { activePolicy, foldPolicyEvent, type PolicyState } from '#policy-engine';
import { describeVfs, vfsDigest } from '#vfs-core';
import { replayEvents } from '../../../../libs/event-store/src/log-replay.js';
import { remoteEvents } from '../audit/remote-log.js';
import type { NatsSession } from '../nats-session.js';
import { AgentFold } from './agent-fold.js';

export interface AgentAt {
  agentId: string;
  /** The last event folded (its position and time). */
  position: number;
  recordedAt: string | null;
  role: string;
  state: LifecycleState;
  version: number;
  exitCode: number | null;
  terminatedBy: string | null;
  blockedSignals: string[];
  pendingSignals: AgentState['pending'];
  dispositions: Record<string, string>;
  counters: AgentState['counters'];
  /** The policy in force at that point of the log, and the newest version that decided for this agent. */
  policyInForce: { version: number; hash: string; name: string } | null;
  lastPolicyVersion: number | null;
  files: ReturnType<typeof describeVfs>['files'];
  descriptors: ReturnType<typeof describeVfs>['fds'];
  vfsDigest: string;
}

/**
 * Rebuilds an agent's exact state at a position (or time) from the log, with the same reducers
 * the services use: lifecycle, signals, counters, files, descriptors, and the policy in force.
 */
export async function agentAt(
  s: NatsSession,
  agentId: string,
  at: { position?: number; time?: string },
): Promise<AgentAt> {
  const bound = at.time ? { to: new Date(Date.parse(at.time) + 1).toISOString() } : { toPosition: at.position };
  // the replay driver over the recorder's reads (the command line talks to NATS only)
  const fold = new AgentFold();
  const last = { position: 0, recordedAt: null as string | null };
  await replayEvents(remoteEvents(s, { agentId, ...bound }, 2000), (e) => {
    fold.apply(e);
    last.position = e.position;
    last.recordedAt = e.recordedAt;
  });
  const agent = fold.agents.get(agentStream(agentId));
  if (!agent) throw new Error(`agent ${agentId} did not exist at that point of the log`);
  const { kernel, vfs } = agent;
  let policy: PolicyState | null = null;
  const policyEvents = await s.request<{ events: RecordedEvent[] }>(Subjects.recorderReadStream, {
    streamId: POLICY_STREAM,
    limit: 10000,
  });
  for (const e of policyEvents.events) {
    if (e.position > last.position) break;
    policy = foldPolicyEvent(policy, e);
  }
  const active = policy ? activePolicy(policy) : null;
  const listing = describeVfs(vfs);
  return {
    agentId,
    position: last.position,
    recordedAt: last.recordedAt,
    role: kernel.role,
    state: kernel.lifecycle,
    version: kernel.version,
    exitCode: kernel.exitCode,
    terminatedBy: kernel.terminatedBy,
    blockedSignals: kernel.blocked,
    pendingSignals: kernel.pending,
    dispositions: Object.fromEntries(kernel.dispositions),
    counters: kernel.counters,
    policyInForce: active ? { version: active.version, hash: active.hash, name: active.name } : null,
    lastPolicyVersion: kernel.lastPolicyVersion,
    files: listing.files,
    descriptors: listing.fds,
    vfsDigest: vfsDigest(vfs),
  };
}

export interface AgentDiff {
  from: number;
  to: number;
  changes: { what: string; from: unknown; to: unknown }[];
}

/** What changed for an agent between two points of the log. */
export function diffAgent(a: AgentAt, b: AgentAt): AgentDiff {
  const changes: AgentDiff['changes'] = [];
  const cmp = (what: string, x: unknown, y: unknown) => {
    if (JSON.stringify(x) !== JSON.stringify(y)) changes.push({ what, from: x, to: y });
  };
  cmp('state', a.state, b.state);
  cmp('role', a.role, b.role);
  cmp('exitCode', a.exitCode, b.exitCode);
  cmp('blockedSignals', a.blockedSignals, b.blockedSignals);
  cmp(
    'pendingSignals',
    a.pendingSignals.map((p) => p.signal),
    b.pendingSignals.map((p) => p.signal),
  );
  cmp('dispositions', a.dispositions, b.dispositions);
  cmp('policyInForce', a.policyInForce?.version ?? null, b.policyInForce?.version ?? null);
  for (const k of Object.keys(b.counters) as (keyof AgentAt['counters'])[])
    cmp(`counters.${k}`, a.counters[k], b.counters[k]);
  const fa = new Map(a.files.map((f) => [f.path, f]));
  const fb = new Map(b.files.map((f) => [f.path, f]));
  for (const [p, f] of fb) {
    const before = fa.get(p);
    if (!before) changes.push({ what: `file ${p}`, from: null, to: `${f.size} bytes ${f.contentHash}` });
    else if (before.contentHash !== f.contentHash || before.modified !== f.modified) {
      changes.push({
        what: `file ${p}`,
        from: `${before.size} bytes ${before.contentHash}`,
        to: `${f.size} bytes ${f.contentHash}`,
      });
    }
  }
  for (const [p, f] of fa)
    if (!fb.has(p)) changes.push({ what: `file ${p}`, from: `${f.size} bytes ${f.contentHash}`, to: null });
  const da = new Map(a.descriptors.map((d) => [d.fd, d]));
  const db = new Map(b.descriptors.map((d) => [d.fd, d]));
  for (const [fd, d] of db)
    if (!da.has(fd)) changes.push({ what: `fd ${fd}`, from: null, to: `${d.path} (${d.mode})` });
  for (const [fd, d] of da)
    if (!db.has(fd)) changes.push({ what: `fd ${fd}`, from: `${d.path} (${d.mode})`, to: null });
  return { from: a.position, to: b.position, changes };
}
