import { evolveAgent, type AgentState } from '#agent-state';
import { applyVfsEvent, emptyVfsState, type VfsState } from '#vfs-core';
import type { LogEvent } from '../../../../libs/event-store/src/log-replay.js';

export interface ReplayedAgent {
  kernel: AgentState;
  vfs: VfsState;
}

/**
 * Every agent's state folded from its stream with the services' reducers, in place: the kernel's
 * (libs/agent-state) and the VFS's (libs/vfs-core). An agent's files are folded from the event
 * that creates it on, as the digests compare them. Both reducers are total, so no recorded event
 * can stop a replay.
 */
export class AgentFold {
  /** By stream id, in the order the agents were created. */
  readonly agents = new Map<string, ReplayedAgent>();
  /** Position of each agent's first folded event, in the same order (to merge folds of disjoint shares). */
  readonly createdAt: number[] = [];
  /** When each was recorded (null unless the source carries times), in the same order (to merge partitions). */
  readonly createdTime: (string | null)[] = [];

  /** Folds one event; returns the agent it belongs to (undefined before its stream's AgentCreated). */
  apply(e: LogEvent): ReplayedAgent | undefined {
    const a = this.agents.get(e.streamId);
    if (a === undefined) {
      const kernel = evolveAgent(null, e);
      if (kernel === null) return undefined;
      const created: ReplayedAgent = { kernel, vfs: emptyVfsState() };
      this.agents.set(e.streamId, created);
      this.createdAt.push(e.position);
      this.createdTime.push(e.recordedAt);
      applyVfsEvent(created.vfs, e);
      return created;
    }
    a.kernel = evolveAgent(a.kernel, e) ?? a.kernel;
    applyVfsEvent(a.vfs, e);
    return a;
  }
}
