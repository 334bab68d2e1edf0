import { Global, Inject, Injectable, Module, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type pg from 'pg';
import type { AgentOsConfig } from '#config';
import { createPgPool, pendingMigrations } from '#event-store';
import { Readiness } from '#observability';
import { AGENTOS_CONFIG, ROOT_LOGGER } from './runtime.tokens.js';
import type pino from 'pino';

export const PG_POOL = Symbol('PG_POOL');

/** Reports Postgres in readiness (reachable, schema migrated) and closes the pool last. */
@Injectable()
class PostgresLifecycle implements OnApplicationBootstrap, OnModuleDestroy {
  private migrated = false;

  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    @Inject(AGENTOS_CONFIG) private readonly config: AgentOsConfig,
    @Inject(Readiness) private readonly readiness: Readiness,
    @Inject(ROOT_LOGGER) private readonly logger: pino.Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.readiness.add('postgres', async () => {
      try {
        await this.pool.query('SELECT 1');
      } catch (err) {
        return `unreachable: ${(err as Error).message}`;
      }
      if (!this.migrated) {
        const pending = await pendingMigrations({ pgUrl: this.config.pgUrl, pgSchema: this.config.pgSchema });
        if (pending.length) return `schema ${this.config.pgSchema} needs migrations: ${pending.join(', ')}`;
        this.migrated = true;
      }
      return true;
    });
  }

  async onModuleDestroy(): Promise<void> {
    await this.pool.end().catch((err: Error) => this.logger.warn({ err }, 'closing the Postgres pool failed'));
  }
}

/** One pool per process, scoped to the deployment's schema and the least-privileged role. */
@Global()
@Module({
  providers: [
    {
      provide: PG_POOL,
      inject: [AGENTOS_CONFIG],
      useFactory: (c: AgentOsConfig) =>
        createPgPool({
          pgUrl: c.pgUrl,
          pgSchema: c.pgSchema,
          pgRole: c.pgRole,
          poolSize: c.pgPoolSize,
          applicationName: `agentos-${c.service}`,
        }),
    },
    PostgresLifecycle,
  ],
  exports: [PG_POOL],
})
export class PostgresModule {}
