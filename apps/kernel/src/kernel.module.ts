import { Module, type DynamicModule } from '@nestjs/common';
import {
  CommittedEventsFeed,
  PostgresModule,
  RECORDER_CLIENT_SETTINGS,
  RecorderClient,
  RuntimeModule,
  StreamCommandHandler,
  recorderClientSettingsFromEnv,
  type Runtime,
} from '#runtime';
import { AgentAdminController } from './agents/agent-admin.controller.js';
import { AgentAdminService } from './agents/agent-admin.service.js';
import { AgentLocks } from './agents/agent-locks.js';
import { AgentStateCache, SNAPSHOT_SETTINGS, type SnapshotSettings } from './agents/agent-state.cache.js';
import {
  CREDENTIAL_SETTINGS,
  CredentialAuthority,
  type CredentialSettings,
} from './credentials/credential-authority.service.js';
import { VFS_CLIENT_SETTINGS, VfsClient } from './files/vfs.client.js';
import { KernelMetrics } from './metrics/kernel-metrics.js';
import { KernelStatsService } from './metrics/kernel-stats.service.js';
import { SIGNAL_RELAY_SETTINGS, SignalRelay } from './signals/signal-relay.service.js';
import { PolicyGate } from './policy/policy-gate.service.js';
import { SignalPublisher } from './signals/signal-publisher.service.js';
import { RecordedReplies } from './syscalls/recorded-replies.js';
import { SyscallController } from './syscalls/syscall.controller.js';
import { REPLY_CACHE_BYTES, SyscallService } from './syscalls/syscall.service.js';
import { TOOL_SETTINGS, ToolInvoker, type ToolSettings } from './tools/tool-invoker.service.js';
import { ToolRegistry } from './tools/tool-registry.service.js';

@Module({})
export class KernelModule {
  static forRoot(rt: Runtime): DynamicModule {
    const env = process.env;
    const snapshots: SnapshotSettings = {
      enabled: (env.AGENTOS_SNAPSHOTS ?? 'on') !== 'off',
      every: Number(env.AGENTOS_SNAPSHOT_EVERY || 200),
      maxBytes: Number(env.AGENTOS_AGENT_CACHE_BYTES || 256 * 1024 * 1024),
    };
    const tools: ToolSettings = {
      timeoutMs: Number(env.AGENTOS_TOOL_TIMEOUT_MS || 10_000),
      maxResultBytes: rt.config.limits.maxToolResultBytes,
    };
    const credentials: CredentialSettings = {
      authorityFile: env.AGENTOS_NATS_AUTHORITY || null,
      ttlSeconds: Number(env.AGENTOS_AGENT_CREDENTIAL_TTL_S || 0),
      resyncMs: Number(env.AGENTOS_CREDENTIAL_RESYNC_MS || 60_000),
    };
    return {
      module: KernelModule,
      imports: [RuntimeModule.forRoot(rt), PostgresModule],
      controllers: [SyscallController, AgentAdminController],
      providers: [
        { provide: SNAPSHOT_SETTINGS, useValue: snapshots },
        { provide: RECORDER_CLIENT_SETTINGS, useValue: recorderClientSettingsFromEnv(env) },
        { provide: TOOL_SETTINGS, useValue: tools },
        { provide: VFS_CLIENT_SETTINGS, useValue: { timeoutMs: Number(env.AGENTOS_VFS_TIMEOUT_MS || 5000) } },
        { provide: REPLY_CACHE_BYTES, useValue: Number(env.AGENTOS_REPLY_CACHE_BYTES || 32 * 1024 * 1024) },
        { provide: CREDENTIAL_SETTINGS, useValue: credentials },
        { provide: SIGNAL_RELAY_SETTINGS, useValue: { intervalMs: Number(env.AGENTOS_SIGNAL_RELAY_MS || 1000) } },
        AgentLocks,
        CommittedEventsFeed,
        AgentStateCache,
        RecorderClient,
        StreamCommandHandler,
        RecordedReplies,
        CredentialAuthority,
        PolicyGate,
        ToolRegistry,
        ToolInvoker,
        SignalPublisher,
        SignalRelay,
        VfsClient,
        KernelMetrics,
        KernelStatsService,
        SyscallService,
        AgentAdminService,
      ],
    };
  }
}
