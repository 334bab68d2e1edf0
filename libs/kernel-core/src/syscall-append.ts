import {
  EventTypes,
  agentStream,
  type DecisionV1,
  type LifecycleState,
  type SignalDeliveredV1,
  type SignalSentV1,
  type SyscallRecordedV2,
} from '#contracts';
import type { AgentState } from '#agent-state';
import type { AppendRequest, EventMetadata, NewEvent } from '#contracts';
import type { PolicyInForce } from './policy-in-force.js';
import type { SyscallEnvelope } from './syscall-envelope.js';
import type { HandlerOutcome } from './syscall-outcome.js';

export interface SyscallRecordInput {
  agentId: string;
  state: AgentState;
  requestId: string;
  envelope: SyscallEnvelope;
  decision: DecisionV1;
  outcome: HandlerOutcome;
  at: string;
  executionTimeMs: number;
  policy: PolicyInForce;
  /** Id of the syscall's event (the VFS was told it). */
  eventId: string;
  /** Ids for the signal events it delivers. */
  newEventId: () => string;
  /** Who wrote the event (host, service, correlation), per stream. */
  metadata: (agentId: string, causationId?: string) => EventMetadata;
  /** The partition of an agent's stream (signals across partitions go through the outbox). */
  partitionOf: (agentId: string) => number;
}

/** The events of one stream in the append, for folding them after the commit. */
export interface StreamEvents {
  agentId: string;
  events: NewEvent[];
  lifecycleAfter: LifecycleState;
}

export interface SyscallAppend {
  request: AppendRequest;
  record: SyscallRecordedV2;
  perStream: StreamEvents[];
}

/**
 * The one atomic append that records a syscall: its SyscallRecorded event (carrying the
 * idempotency key `req:<id>`) then the signals it delivers to the caller, on the caller's stream
 * at the version decided on; signals to another agent of the same partition on that agent's
 * stream at the version they were decided on; signals to an agent in another partition as
 * SignalSent events on the caller's stream (the outbox, delivered by the relay); all conditioned
 * on the policy fence of the caller's partition that the decision used. Pure.
 */
export function buildSyscallAppend(i: SyscallRecordInput): SyscallAppend {
  const o = i.outcome;
  const record: SyscallRecordedV2 = {
    requestId: i.requestId,
    syscall: i.envelope.syscall,
    args: i.envelope.args,
    decision: i.decision,
    // a read records what it returned as a digest; the reply carries the content
    result: o.returned ? { ...o.result, returnValue: null } : o.result,
    ...(o.returned ? { returned: o.returned } : {}),
    ...(o.vfs ? { vfs: o.vfs } : {}),
    ...(o.kernel ? { kernel: o.kernel } : {}),
    at: i.at,
    executionTimeMs: i.executionTimeMs,
  };
  const deliveries = o.deliveries ?? [];
  let ownLifecycle: LifecycleState =
    record.kernel?.op === 'exit' && record.result.success ? 'terminated' : i.state.lifecycle;
  const own = deliveries.find((d) => d.agentId === i.agentId);
  if (own && ownLifecycle !== 'terminated') ownLifecycle = own.stateAfter;
  if (ownLifecycle !== i.state.lifecycle) record.transition = ownLifecycle;

  const ownEvents: NewEvent[] = [
    {
      eventId: i.eventId,
      type: EventTypes.SyscallRecorded,
      schemaVersion: 2,
      idempotencyKey: `req:${i.requestId}`,
      data: record as unknown as NewEvent['data'],
      metadata: i.metadata(i.agentId),
    },
    ...(own?.events ?? []).map((e) => signalEvent(i.newEventId(), e, i.metadata(i.agentId, i.eventId))),
  ];
  const perStream: StreamEvents[] = [{ agentId: i.agentId, events: ownEvents, lifecycleAfter: ownLifecycle }];
  const appends: AppendRequest['appends'] = [
    { streamId: agentStream(i.agentId), expectedVersion: i.state.version, events: ownEvents },
  ];
  const home = i.partitionOf(i.agentId);
  for (const d of deliveries) {
    if (d.agentId === i.agentId || d.events.length === 0) continue;
    if (d.sent && i.partitionOf(d.agentId) !== home) {
      ownEvents.push(sentEvent(i.newEventId(), d.sent, i.metadata(i.agentId, i.eventId)));
      continue;
    }
    const events = d.events.map((e) => signalEvent(i.newEventId(), e, i.metadata(d.agentId, i.eventId)));
    appends.push({ streamId: agentStream(d.agentId), expectedVersion: d.baseVersion, events });
    perStream.push({ agentId: d.agentId, events, lifecycleAfter: d.stateAfter });
  }
  return {
    request: { appends, conditions: [{ streamId: i.policy.fenceStream, version: i.policy.activation }] },
    record,
    perStream,
  };
}

function signalEvent(eventId: string, e: SignalDeliveredV1, metadata: EventMetadata): NewEvent {
  return {
    eventId,
    type: EventTypes.SignalDelivered,
    schemaVersion: 1,
    data: e as unknown as NewEvent['data'],
    metadata,
  };
}

function sentEvent(eventId: string, e: SignalSentV1, metadata: EventMetadata): NewEvent {
  return {
    eventId,
    type: EventTypes.SignalSent,
    schemaVersion: 1,
    data: e as unknown as NewEvent['data'],
    metadata,
  };
}
