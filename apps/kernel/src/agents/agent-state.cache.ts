import { Inject, Injectable } from '@nestjs/common';
import type pino from 'pino';
import { agentStream } from '#contracts';
import {
  AGENT_SNAPSHOT_SCHEMA,
  cloneAgentState,
  evolveAgent,
  fromAgentSnapshot,
  toAgentSnapshot,
  type AgentSnapshotV3,
  type AgentState,
} from '#agent-state';
import {
  PartitionedLog,
  PgEventReader,
  PgSnapshotStore,
  StreamStateCache,
  type CachedStream,
  type StreamEvent,
} from '#event-store';
import { CommittedEventsFeed, ROOT_LOGGER } from '#runtime';

export interface SnapshotSettings {
  enabled: boolean;
  every: number;
  /** Most bytes of agent states kept in memory (AGENTOS_AGENT_CACHE_BYTES). */
  maxBytes: number;
}

/** Bytes an agent's kernel state takes in memory, roughly. */
export function agentStateBytes(s: AgentState): number {
  let usage = 0;
  for (const [action, buckets] of s.usage) usage += 64 + action.length * 2 + buckets.length * 48;
  return 1024 + usage + s.pending.length * 160 + s.credentials.length * 120 + s.agentId.length * 2;
}
export const SNAPSHOT_SETTINGS = Symbol('SNAPSHOT_SETTINGS');

/** Every agent's kernel state, folded from its stream, kept current by own commits and the feed. */
@Injectable()
export class AgentStateCache {
  private readonly cache: StreamStateCache<AgentState>;

  constructor(
    reader: PgEventReader,
    log: PartitionedLog,
    @Inject(SNAPSHOT_SETTINGS) snapshots: SnapshotSettings,
    feed: CommittedEventsFeed,
    @Inject(ROOT_LOGGER) logger: pino.Logger,
  ) {
    this.cache = new StreamStateCache<AgentState>(reader, {
      fold: evolveAgent,
      clone: cloneAgentState,
      snapshots: snapshots.enabled
        ? new PgSnapshotStore<AgentState>(log, 'kernel', AGENT_SNAPSHOT_SCHEMA, {
            encode: toAgentSnapshot,
            decode: (json) => fromAgentSnapshot(json as AgentSnapshotV3),
          })
        : undefined,
      snapshotEvery: snapshots.every,
      maxBytes: snapshots.maxBytes,
      sizeOf: agentStateBytes,
      onSnapshotError: (err) => logger.warn({ err: (err as Error).message }, 'snapshot not written'),
    });
    feed.onCommitted((hint) => {
      for (const [stream, version] of hint.s) this.cache.moved(stream, version);
    });
  }

  get(agentId: string): Promise<CachedStream<AgentState>> {
    return this.cache.get(agentStream(agentId));
  }

  refresh(agentId: string): Promise<CachedStream<AgentState>> {
    return this.cache.refresh(agentStream(agentId));
  }

  /** Reloads a stream by id (another agent's, named by a conflict). */
  refreshStream(streamId: string): Promise<CachedStream<AgentState>> {
    return this.cache.refresh(streamId);
  }

  apply(agentId: string, events: StreamEvent[]): void {
    this.cache.apply(agentStream(agentId), events);
  }

  invalidate(agentId: string): void {
    this.cache.invalidate(agentStream(agentId));
  }
}
