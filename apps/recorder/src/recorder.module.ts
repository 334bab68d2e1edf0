import { Module, type DynamicModule } from '@nestjs/common';
import type { AgentOsConfig } from '#config';
import { PartitionedLog } from '#event-store';
import { AGENTOS_CONFIG, PostgresModule, RuntimeModule, type Runtime } from '#runtime';
import { AppendController } from './append/append.controller.js';
import { CommittedEventsPublisher } from './append/committed-events.publisher.js';
import { GROUP_COMMIT_SETTINGS, type GroupCommitSettings } from './append/group-commit.queue.js';
import { APPEND_STATEMENT_TIMEOUT_MS, PartitionWriters, WRITER_LOG } from './append/partition-writers.js';
import { QueryController } from './query/query.controller.js';
import { AuditController } from './audit/audit.controller.js';

@Module({})
export class RecorderModule {
  static forRoot(rt: Runtime): DynamicModule {
    const settings: GroupCommitSettings = {
      maxBatchEvents: Number(process.env.AGENTOS_RECORDER_MAX_BATCH_EVENTS || 2000),
      maxQueueWaitMs: Number(process.env.AGENTOS_RECORDER_MAX_QUEUE_WAIT_MS || 2000),
      maxQueuedEvents: Number(process.env.AGENTOS_RECORDER_MAX_QUEUED_EVENTS || 50000),
    };
    return {
      module: RecorderModule,
      imports: [RuntimeModule.forRoot(rt), PostgresModule],
      controllers: [AppendController, QueryController, AuditController],
      providers: [
        { provide: GROUP_COMMIT_SETTINGS, useValue: settings },
        {
          provide: WRITER_LOG,
          inject: [AGENTOS_CONFIG],
          useFactory: (c: AgentOsConfig) =>
            // per partition: one group commit at a time, plus one connection to settle a lost reply
            PartitionedLog.open({
              pgUrl: c.pgUrl,
              pgSchema: c.pgSchema,
              partitionMap: c.pgPartitionMap,
              pgRole: c.pgRole,
              poolSize: 3,
              applicationName: `agentos-${c.service}-writer`,
              statementTimeoutMs: APPEND_STATEMENT_TIMEOUT_MS,
            }),
        },
        PartitionWriters,
        CommittedEventsPublisher,
      ],
    };
  }
}
