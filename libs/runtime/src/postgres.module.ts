import { Global, Inject, Injectable, Module, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type pg from 'pg';
import type pino from 'pino';
import type { AgentOsConfig } from '#config';
import { LogQueries, PartitionedLog, PgEventReader, pendingMigrations } from '#event-store';
import { Readiness } from '#observability';
import { AGENTOS_CONFIG, ROOT_LOGGER } from './runtime.tokens.js';

/** The pool of partition 0, the home partition (`$policy`, `$tools`, and a log of one partition). */
export const PG_POOL = Symbol('PG_POOL');

/** Reports Postgres in readiness (every partition reachable and migrated) and closes the pools last. */
@Injectable()
class PostgresLifecycle implements OnApplicationBootstrap, OnModuleDestroy {
  private migrated = false;

  constructor(
    private readonly log: PartitionedLog,
    @Inject(AGENTOS_CONFIG) private readonly config: AgentOsConfig,
    @Inject(Readiness) private readonly readiness: Readiness,
    @Inject(ROOT_LOGGER) private readonly logger: pino.Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.readiness.add('postgres', async () => {
      for (const p of this.log.layout.placements) {
        try {
          await this.log.pool(p.partition).query('SELECT 1');
        } catch (err) {
          return `partition ${p.partition} unreachable: ${(err as Error).message}`;
        }
      }
      if (!this.migrated) {
        for (const p of this.log.layout.placements) {
          const pending = await pendingMigrations({ pgUrl: p.pgUrl, pgSchema: p.pgSchema });
          if (pending.length) return `schema ${p.pgSchema} needs migrations: ${pending.join(', ')}`;
        }
        this.migrated = true;
      }
      return true;
    });
  }

  async onModuleDestroy(): Promise<void> {
    await this.log.close().catch((err: Error) => this.logger.warn({ err }, 'closing the Postgres pools failed'));
  }
}

/**
 * The log's partitions, a pool for each (scoped to its schema and the least-privileged role),
 * read once at start: the partition count comes from partition 0, placements from
 * AGENTOS_PG_PARTITIONS.
 */
@Global()
@Module({
  providers: [
    {
      provide: PartitionedLog,
      inject: [AGENTOS_CONFIG, ROOT_LOGGER],
      useFactory: (c: AgentOsConfig, logger: pino.Logger) =>
        PartitionedLog.open(
          {
            pgUrl: c.pgUrl,
            pgSchema: c.pgSchema,
            partitionMap: c.pgPartitionMap,
            pgRole: c.pgRole,
            poolSize: c.pgPoolSize,
            applicationName: `agentos-${c.service}`,
          },
          (err) => logger.warn({ err: err.message }, 'waiting for Postgres to read the partition count'),
        ),
    },
    { provide: PG_POOL, inject: [PartitionedLog], useFactory: (log: PartitionedLog): pg.Pool => log.pool(0) },
    { provide: PgEventReader, inject: [PartitionedLog], useFactory: (log: PartitionedLog) => new PgEventReader(log) },
    { provide: LogQueries, inject: [PartitionedLog], useFactory: (log: PartitionedLog) => new LogQueries(log) },
    PostgresLifecycle,
  ],
  exports: [PartitionedLog, PG_POOL, PgEventReader, LogQueries],
})
export class PostgresModule {}
