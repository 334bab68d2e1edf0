import {
  EventTypes,
  POLICY_STREAM,
  Subjects,
  agentPartition,
  agentStream,
  policyFenceStream,
  type LifecycleState,
  type PolicyFenceV1,
} from '#contracts';
import type { AgentState } from '#agent-state';
import type { RecordedEvent } from '#event-store';
import { activePolicy, foldPolicyEvent, type PolicyState } from '#policy-engine';
import { describeVfs, vfsDigest } from '#vfs-core';
import { replayEvents } from '../../../../libs/event-store/src/log-replay.js';
import { remoteEvents, remoteLog } from '../audit/remote-log.js';
import type { NatsSession } from '../nats-session.js';
import { AgentFold } from './agent-fold.js';

export interface AgentAt {
  agentId: string;
  /** The partition the agent lives in (logs of several partitions only). */
  partition?: number;
  /** The last event folded (its position in the agent's partition, and its time). */
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
 * A point of the log: a position (in the agent's own partition unless `partition` names another),
 * or a time (events recorded at or before it).
 */
export interface LogPoint {
  position?: number;
  partition?: number;
  time?: string;
}

/**
 * Rebuilds an agent's exact state at a point of the log (or time) from the log, with the same
 * reducers the services use: lifecycle, signals, counters, files, descriptors, and the policy in
 * force.
 *
 * An agent's stream lives in one partition, so its history is exact whatever the partition count.
 * A position in another partition than the agent's is placed in the merged order of the log
 * (recorded time, then partition, then position): the agent's events that come before it in that
 * order are folded. The policy in force is that of the agent's partition at its last folded
 * event: the `$policy` stream in partition 0, the partition's policy fence (PolicyFence events of
 * `$policy@<p>`, naming the `$policy` version decisions there were made under) elsewhere.
 */
export async function agentAt(s: NatsSession, agentId: string, at: LogPoint): Promise<AgentAt> {
  const log = await remoteLog(s);
  const home = agentPartition(agentId, log.partitions);
  const scope = log.partitions > 1 ? { partition: home } : {};
  let bound: { to?: string; toPosition?: number } = at.time
    ? { to: new Date(Date.parse(at.time) + 1).toISOString() }
    : { toPosition: at.position };
  // a position elsewhere: the agent's events before that event in the merged order
  let before: ((e: RecordedEvent) => boolean) | null = null;
  if (!at.time && at.partition !== undefined && at.partition !== home && log.partitions > 1) {
    if (at.partition >= log.partitions) throw new Error(`the log has no partition ${at.partition}`);
    const page = await s.request<{ events: RecordedEvent[] }>(Subjects.auditQuery, {
      partition: at.partition,
      after: Math.max(0, (at.position ?? 0) - 1),
      toPosition: at.position,
      limit: 1,
    });
    const mark = page.events[0];
    if (!mark) throw new Error(`the log has no event at position ${at.partition}:${at.position}`);
    bound = { to: new Date(Date.parse(mark.recordedAt) + 1).toISOString() };
    before = (e) => e.recordedAt < mark.recordedAt || (e.recordedAt === mark.recordedAt && home < mark.partition!);
  }
  // the replay driver over the recorder's reads (the command line talks to NATS only)
  const fold = new AgentFold();
  const last = { position: 0, recordedAt: null as string | null };
  async function* events(): AsyncGenerator<RecordedEvent> {
    for await (const e of remoteEvents(s, { ...scope, agentId, ...bound }, 2000)) if (!before || before(e)) yield e;
  }
  await replayEvents(events(), (e) => {
    fold.apply(e);
    last.position = e.position;
    last.recordedAt = e.recordedAt;
  });
  const agent = fold.agents.get(agentStream(agentId));
  if (!agent) throw new Error(`agent ${agentId} did not exist at that point of the log`);
  const { kernel, vfs } = agent;
  const policy = await policyAt(s, home, last.position);
  const active = policy ? activePolicy(policy) : null;
  const listing = describeVfs(vfs);
  return {
    agentId,
    ...(log.partitions > 1 ? { partition: home } : {}),
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

/** The policy state in force in a partition at one of its positions. */
async function policyAt(s: NatsSession, partition: number, position: number): Promise<PolicyState | null> {
  // partition 0: the $policy events up to the position; elsewhere: up to the version the partition's fence named then
  let upToVersion = Infinity;
  if (partition !== 0) {
    const fences = await s.request<{ events: RecordedEvent[] }>(Subjects.recorderReadStream, {
      streamId: policyFenceStream(partition),
      limit: 10000,
    });
    upToVersion = 0;
    for (const e of fences.events) {
      if (e.position > position) break;
      const d = e.data as Partial<PolicyFenceV1> | null;
      if (e.type === EventTypes.PolicyFence && typeof d?.activation === 'number') upToVersion = d.activation;
    }
    if (upToVersion === 0) return null;
  }
  let policy: PolicyState | null = null;
  const policyEvents = await s.request<{ events: RecordedEvent[] }>(Subjects.recorderReadStream, {
    streamId: POLICY_STREAM,
    limit: 10000,
  });
  for (const e of policyEvents.events) {
    if (partition === 0 ? e.position > position : e.streamVersion > upToVersion) break;
    policy = foldPolicyEvent(policy, e);
  }
  return policy;
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
