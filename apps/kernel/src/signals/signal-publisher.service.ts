import { Injectable } from '@nestjs/common';
import { Subjects, type LifecycleState, type SignalDeliveredV1, type SignalNotice } from '#contracts';
import { NatsRpcClient } from '#messaging';

/** After commit, tells running agents about their signals on `agentos.v1.signal.<agentId>`. */
@Injectable()
export class SignalPublisher {
  constructor(private readonly rpc: NatsRpcClient) {}

  publish(agentId: string, d: SignalDeliveredV1, position: number, state: LifecycleState): void {
    const notice: SignalNotice = {
      signal: d.signal,
      number: d.number,
      source: d.source,
      reason: d.reason,
      position: String(position),
      outcome: d.outcome,
      state,
    };
    this.rpc.publish(Subjects.signal(agentId), notice);
  }
}
