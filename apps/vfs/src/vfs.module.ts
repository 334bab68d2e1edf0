import { Module, type DynamicModule } from '@nestjs/common';
import { ENVELOPE_BYTES } from '#contracts';
import { PostgresModule, RuntimeModule, type Runtime } from '#runtime';
import { DEFAULT_VFS_LIMITS, type VfsLimits } from '#vfs-core';
import { AGENT_FILES_SETTINGS, AgentFilesCache, type AgentFilesSettings } from './files/agent-files.cache.js';
import { VFS_LIMITS, VfsController } from './files/vfs.controller.js';

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
    const files: AgentFilesSettings = {
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
        { provide: AGENT_FILES_SETTINGS, useValue: files },
        AgentFilesCache,
      ],
    };
  }
}
