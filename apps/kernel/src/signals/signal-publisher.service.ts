import { Injectable } from '@nestjs/common';
import { Subjects, formatPosition, type LifecycleState, type SignalDeliveredV1, type SignalNotice } from '#contracts';
import { PartitionedLog } from '#event-store';
import { NatsRpcClient } from '#messaging';

/** After commit, tells running agents about their signals on `agentos.v1.signal.<agentId>`. */
@Injectable()
export class SignalPublisher {
  constructor(
    private readonly rpc: NatsRpcClient,
    private readonly log: PartitionedLog,
  ) {}

  /** `at`: where the SignalDelivered event was recorded. */
  publish(
    agentId: string,
    d: SignalDeliveredV1,
    at: { position: number; partition?: number },
    state: LifecycleState,
  ): void {
    const notice: SignalNotice = {
      signal: d.signal,
      number: d.number,
      source: d.source,
      reason: d.reason,
      position: formatPosition(at.partition ?? 0, at.position, this.log.partitions),
      outcome: d.outcome,
      state,
    };
    this.rpc.publish(Subjects.signal(agentId), notice);
  }
}
