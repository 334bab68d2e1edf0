import { Module, type DynamicModule } from '@nestjs/common';
import type pg from 'pg';
import { PgEventAppender, PgEventReader } from '#event-store';
import { PG_POOL, PostgresModule, RuntimeModule, type Runtime } from '#runtime';
import { AppendController } from './append/append.controller.js';
import { CommittedEventsPublisher } from './append/committed-events.publisher.js';
import { GROUP_COMMIT_SETTINGS, GroupCommitQueue, type GroupCommitSettings } from './append/group-commit.queue.js';
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
        { provide: PgEventAppender, inject: [PG_POOL], useFactory: (pool: pg.Pool) => new PgEventAppender(pool) },
        { provide: PgEventReader, inject: [PG_POOL], useFactory: (pool: pg.Pool) => new PgEventReader(pool) },
        GroupCommitQueue,
        CommittedEventsPublisher,
      ],
    };
  }
}
