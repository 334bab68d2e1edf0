import { Inject, Injectable, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import type pg from 'pg';
import type { AgentOsConfig } from '#config';
import { PgEventAppender, PgEventReader, createPgPool } from '#event-store';
import { AGENTOS_CONFIG, PG_POOL, PostgresModule, RuntimeModule, type Runtime } from '#runtime';
import { AppendController } from './append/append.controller.js';
import { CommittedEventsPublisher } from './append/committed-events.publisher.js';
import { GROUP_COMMIT_SETTINGS, GroupCommitQueue, type GroupCommitSettings } from './append/group-commit.queue.js';
import { QueryController } from './query/query.controller.js';
import { AuditController } from './audit/audit.controller.js';

/** The appender's own connections: a statement_timeout on every session, and never behind a slow reader. */
export const WRITER_POOL = Symbol('WRITER_POOL');

/** Upper bound for any append statement: a stuck one fails instead of holding the log head. */
const APPEND_STATEMENT_TIMEOUT_MS = 5000;

/** Closes the writer pool after everything else (the group-commit queue drains in onModuleDestroy). */
@Injectable()
class WriterPoolLifecycle implements OnApplicationShutdown {
  constructor(@Inject(WRITER_POOL) private readonly pool: pg.Pool) {}

  async onApplicationShutdown(): Promise<void> {
    await this.pool.end().catch(() => undefined);
  }
}

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
          provide: WRITER_POOL,
          inject: [AGENTOS_CONFIG],
          useFactory: (c: AgentOsConfig) =>
            // one group commit at a time per process, plus one connection to settle a lost reply
            createPgPool({
              pgUrl: c.pgUrl,
              pgSchema: c.pgSchema,
              pgRole: c.pgRole,
              poolSize: 3,
              applicationName: `agentos-${c.service}-writer`,
              statementTimeoutMs: APPEND_STATEMENT_TIMEOUT_MS,
            }),
        },
        WriterPoolLifecycle,
        {
          provide: PgEventAppender,
          inject: [WRITER_POOL],
          useFactory: (pool: pg.Pool) => new PgEventAppender(pool, { statementTimeoutMs: APPEND_STATEMENT_TIMEOUT_MS }),
        },
        { provide: PgEventReader, inject: [PG_POOL], useFactory: (pool: pg.Pool) => new PgEventReader(pool) },
        GroupCommitQueue,
        CommittedEventsPublisher,
      ],
    };
  }
}
