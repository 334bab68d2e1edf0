import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import type pino from 'pino';
import { agentStream } from '#contracts';
import { PgEventReader, PgSnapshotStore, StreamStateCache, type CachedStream } from '#event-store';
import { CommittedEventsFeed, PG_POOL, ROOT_LOGGER } from '#runtime';
import {
  applyVfsEvent,
  cloneVfsState,
  emptyVfsState,
  fromVfsSnapshot,
  toVfsSnapshot,
  type VfsSnapshotV1,
  type VfsState,
} from '#vfs-core';

export const VFS_SNAPSHOT_SCHEMA = 1;

export interface VfsCacheSettings {
  snapshots: boolean;
  snapshotEvery: number;
  /** Most bytes of file systems kept in memory (AGENTOS_VFS_CACHE_BYTES); least recently used go first. */
  maxBytes: number;
}

/** Bytes an agent's file system takes in memory, roughly: contents plus per-entry overhead. */
export function vfsStateBytes(s: VfsState): number {
  return 512 + s.totalBytes + s.files.size * 256 + s.fds.size * 96;
}
export const VFS_CACHE_SETTINGS = Symbol('VFS_CACHE_SETTINGS');

/** Each agent's file system, folded from its stream (the VFS never writes the log itself). */
@Injectable()
export class VfsStateCache {
  private readonly cache: StreamStateCache<VfsState>;

  constructor(
    private readonly reader: PgEventReader,
    @Inject(PG_POOL) pool: pg.Pool,
    @Inject(VFS_CACHE_SETTINGS) settings: VfsCacheSettings,
    feed: CommittedEventsFeed,
    @Inject(ROOT_LOGGER) private readonly logger: pino.Logger,
  ) {
    this.cache = new StreamStateCache<VfsState>(reader, {
      fold: (s, e) => {
        const state = s ?? emptyVfsState();
        applyVfsEvent(state, e);
        return state;
      },
      clone: cloneVfsState,
      snapshots: settings.snapshots
        ? new PgSnapshotStore<VfsState>(pool, 'vfs', VFS_SNAPSHOT_SCHEMA, {
            encode: toVfsSnapshot,
            decode: (json) => fromVfsSnapshot(json as VfsSnapshotV1),
          })
        : undefined,
      snapshotEvery: settings.snapshotEvery,
      maxBytes: settings.maxBytes,
      sizeOf: vfsStateBytes,
      onSnapshotError: (err) => logger.warn({ err: (err as Error).message }, 'snapshot not written'),
    });
    feed.onCommitted((hint) => {
      for (const [stream, version] of hint.s) this.cache.moved(stream, version);
    });
  }

  /**
   * The agent's VFS at exactly `version` if possible. A newer cached version means the caller is
   * stale, unless this cache got ahead of the log (it never should): then it reloads from the log
   * instead of refusing every request.
   */
  async atVersion(agentId: string, version: number): Promise<CachedStream<VfsState>> {
    const stream = agentStream(agentId);
    let c = await this.cache.get(stream);
    if (c.version < version) c = await this.cache.refresh(stream);
    else if (c.version > version && (await this.reader.streamVersion(stream)) < c.version) {
      this.logger.warn({ agentId, cached: c.version }, 'VFS cache ahead of the log; reloading');
      this.cache.invalidate(stream);
      c = await this.cache.get(stream);
    }
    return c;
  }
}
