import { policyActionFor, policyArgsFor, isSyscallName, type DecisionV1, type SyscallRecordedV1 } from '#contracts';
import { evolveAgent, usageCount, type AgentState } from '#agent-state';
import { parseAuditCursor, type AuditLogQuery, type RecordedEvent } from '#event-store';
import { evaluatePolicy, type CompiledPolicy } from '#policy-engine';
import { replayEvents, type LogEvent, type ReplaySource } from '../../../../libs/event-store/src/log-replay.js';

export type ChangeKind = 'allow→deny' | 'deny→allow' | 'allow→shadow' | 'shadow→allow' | 'rule changed';

export interface DecisionChange {
  /** The partition of the syscall (logs of several partitions only). */
  partition?: number;
  position: number;
  agentId: string;
  syscall: string;
  requestId: string;
  kind: ChangeKind;
  recorded: { allowed: boolean; shadow: boolean; rule: string | null; policyVersion: number | null };
  candidate: {
    allowed: boolean;
    shadow: boolean;
    rule: string | null;
    reason: string | null;
    onViolation: string | null;
  };
}

export interface WhatIfReport {
  evaluated: number;
  unchanged: number;
  changed: number;
  byKind: Record<ChangeKind, number>;
  changes: DecisionChange[];
}

/**
 * Re-decides recorded syscalls under a candidate policy, each against the agent's state just
 * before it as recorded (role, rate usage), and reports the decisions that would differ. The
 * history is taken as it happened (later events are not re-imagined), and nothing is written.
 *
 * Each agent's state is folded from its own stream, which lives in one partition, so every
 * re-decision is exact whatever the partition count. Across agents, events come in the order the
 * source gives: over NATS, the audit query's merged order (recorded time, then partition, then
 * position), which is the order of the listed changes. With several partitions, `after` and
 * `toPosition` are a position in every partition or a cursor (`0:12,1:40,...`).
 */
export async function whatIf(
  /** The recorder's events over NATS, or Postgres (with `recordedAt: true` when the range has times). */
  events: ReplaySource,
  candidate: CompiledPolicy,
  range: Pick<AuditLogQuery, 'from' | 'to' | 'after' | 'toPosition'>,
  maxListed = 100,
  partitions = 1,
): Promise<WhatIfReport> {
  const states = new Map<string, AgentState | null>();
  const report: WhatIfReport = {
    evaluated: 0,
    unchanged: 0,
    changed: 0,
    byKind: { 'allow→deny': 0, 'deny→allow': 0, 'allow→shadow': 0, 'shadow→allow': 0, 'rule changed': 0 },
    changes: [],
  };
  const after = range.after === undefined ? null : parseAuditCursor(range.after, partitions, 0);
  const upTo =
    range.toPosition === undefined ? null : parseAuditCursor(range.toPosition, partitions, Number.MAX_SAFE_INTEGER);
  // the partition of the event being folded (the driver hands over positions only)
  let partition = 0;
  const inRange = (e: LogEvent) =>
    (after === null || e.position > after[partition]) &&
    (upTo === null || e.position <= upTo[partition]) &&
    (!range.from || (e.recordedAt !== null && e.recordedAt >= range.from)) &&
    (!range.to || (e.recordedAt !== null && e.recordedAt < range.to));
  const source: ReplaySource =
    partitions > 1 && !('pool' in (events as object))
      ? (async function* () {
          for await (const e of events as AsyncIterable<RecordedEvent>) {
            partition = e.partition ?? 0;
            yield e;
          }
        })()
      : events;

  // the replay driver: each agent's kernel state folded in place, each syscall re-decided just before it is folded
  await replayEvents(source, (e) => {
    if (!e.streamId.startsWith('agent:')) return;
    const before = states.get(e.streamId) ?? null;
    if (e.type === 'SyscallRecorded' && before && inRange(e) && isRecordedSyscall(e.data)) {
      const d = e.data;
      if (d.decision.mode !== 'skipped' && isSyscallName(d.syscall) && d.syscall !== 'SYS_CHECKPOLICY') {
        report.evaluated += 1;
        const c = evaluatePolicy(
          candidate,
          {
            agentId: before.agentId,
            role: before.role,
            action: d.decision.action ?? policyActionFor(d.syscall, d.args),
            syscall: d.syscall,
            args: policyArgsFor(d.syscall, d.args),
            ring: 3,
          },
          { count: (counts, minutes) => usageCount(before, counts, minutes, Date.parse(d.at)) },
        );
        const kind = changeKind(d.decision, c);
        if (!kind) report.unchanged += 1;
        else {
          report.changed += 1;
          report.byKind[kind] += 1;
          if (report.changes.length < maxListed) {
            report.changes.push({
              ...(partitions > 1 ? { partition } : {}),
              position: e.position,
              agentId: before.agentId,
              syscall: d.syscall,
              requestId: d.requestId,
              kind,
              recorded: {
                allowed: d.decision.allowed,
                shadow: d.decision.shadow,
                rule: d.decision.rule,
                policyVersion: d.decision.policyVersion,
              },
              candidate: {
                allowed: c.allowed,
                shadow: c.shadow,
                rule: c.rule,
                reason: c.reason,
                onViolation: c.onViolation,
              },
            });
          }
        }
      }
    }
    const after = evolveAgent(before, e);
    if (after !== before) states.set(e.streamId, after);
  });
  return report;
}

/** The shape re-deciding reads (the kernel fold reports other shapes as faults; here they are skipped). */
function isRecordedSyscall(d: unknown): d is SyscallRecordedV1 {
  if (d === null || typeof d !== 'object') return false;
  const r = d as Partial<SyscallRecordedV1>;
  return (
    typeof r.syscall === 'string' &&
    typeof r.at === 'string' &&
    typeof r.requestId === 'string' &&
    r.decision !== null &&
    typeof r.decision === 'object' &&
    typeof r.decision.allowed === 'boolean' &&
    typeof r.decision.shadow === 'boolean' &&
    r.args !== null &&
    typeof r.args === 'object'
  );
}

function changeKind(
  recorded: DecisionV1,
  c: { allowed: boolean; shadow: boolean; rule: string | null },
): ChangeKind | null {
  if (recorded.allowed && !c.allowed) return 'allow→deny';
  if (!recorded.allowed && c.allowed) return 'deny→allow';
  if (!recorded.shadow && c.shadow) return 'allow→shadow';
  if (recorded.shadow && !c.shadow) return 'shadow→allow';
  if (recorded.mode === 'policy' && recorded.rule !== c.rule) return 'rule changed';
  return null;
}
