import { Module, type DynamicModule } from '@nestjs/common';
import type pg from 'pg';
import { PgEventReader } from '#event-store';
import { CommittedEventsFeed, PG_POOL, PostgresModule, RuntimeModule, type Runtime } from '#runtime';
import { ENVELOPE_BYTES } from '#contracts';
import { DEFAULT_VFS_LIMITS, type VfsLimits } from '#vfs-core';
import { VFS_LIMITS, VfsController } from './files/vfs.controller.js';
import { VFS_CACHE_SETTINGS, VfsStateCache, type VfsCacheSettings } from './state/vfs-state.cache.js';

@Module({})
export class VfsModule {
  static forRoot(rt: Runtime): DynamicModule {
    const env = process.env;
    const limits: VfsLimits = {
      maxFileBytes: rt.config.limits.maxFileBytes,
      maxAgentBytes: Number(env.AGENTOS_VFS_MAX_AGENT_BYTES || DEFAULT_VFS_LIMITS.maxAgentBytes),
      maxOpenFds: Number(env.AGENTOS_VFS_MAX_OPEN_FDS || DEFAULT_VFS_LIMITS.maxOpenFds),
      maxReadReplyBytes: (rt.nc.info?.max_payload ?? 1024 * 1024) - ENVELOPE_BYTES,
    };
    const cache: VfsCacheSettings = {
      snapshots: (env.AGENTOS_SNAPSHOTS ?? 'on') !== 'off',
      snapshotEvery: Number(env.AGENTOS_SNAPSHOT_EVERY || 200),
      maxBytes: Number(env.AGENTOS_VFS_CACHE_BYTES || 512 * 1024 * 1024),
    };
    return {
      module: VfsModule,
      imports: [RuntimeModule.forRoot(rt), PostgresModule],
      controllers: [VfsController],
      providers: [
        { provide: VFS_LIMITS, useValue: limits },
        { provide: VFS_CACHE_SETTINGS, useValue: cache },
        { provide: PgEventReader, inject: [PG_POOL], useFactory: (pool: pg.Pool) => new PgEventReader(pool) },
        CommittedEventsFeed,
        VfsStateCache,
      ],
    };
  }
}
