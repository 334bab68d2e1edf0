import { EventTypes, type LifecycleState, type SignalDeliveredV1 } from '#contracts';
import { evolveAgent } from './agent-reducer.js';
import { cloneAgentState, type AgentState } from './agent-state.js';
import { deliverSignal, type SignalRequest } from './signal-delivery.js';

/**
 * Decides several deliveries in order, each seeing the effect of the ones before (a queued
 * SIGSTOP then SIGCONT leaves the agent running). Works on a copy; returns the events to record
 * and the lifecycle they lead to.
 */
export function planDeliveries(
  state: AgentState,
  requests: { req: SignalRequest; fromPending?: boolean }[],
): { events: SignalDeliveredV1[]; stateAfter: LifecycleState; state: AgentState } {
  const work = cloneAgentState(state);
  const events: SignalDeliveredV1[] = [];
  for (const { req, fromPending } of requests) {
    for (const e of deliverSignal(work, req, fromPending)) {
      events.push(e);
      evolveAgent(work, {
        type: EventTypes.SignalDelivered,
        schemaVersion: 1,
        data: e,
        streamVersion: work.version + 1,
        position: work.position,
      });
    }
  }
  return { events, stateAfter: work.lifecycle, state: work };
}
