import pg from 'pg';
import { createPgPool, runMigrations } from '#event-store';
import { TEST_PG_URL, uniqueName } from './test-env.js';

export interface TestSchema {
  name: string;
  pgUrl: string;
  /** Pool acting as the services do (agentos_service role). */
  servicePool: pg.Pool;
  /** Pool with the login (owner/superuser) role: for assertions and tampering. */
  ownerPool: pg.Pool;
  drop(): Promise<void>;
}

/** A fresh, migrated schema of its own. */
export async function createTestSchema(prefix = 't'): Promise<TestSchema> {
  const name = uniqueName(prefix).toLowerCase();
  await runMigrations({ pgUrl: TEST_PG_URL, pgSchema: name });
  const servicePool = createPgPool({ pgUrl: TEST_PG_URL, pgSchema: name, pgRole: 'agentos_service', poolSize: 8 });
  const ownerPool = createPgPool({ pgUrl: TEST_PG_URL, pgSchema: name, pgRole: '', poolSize: 4 });
  return {
    name,
    pgUrl: TEST_PG_URL,
    servicePool,
    ownerPool,
    async drop() {
      await servicePool.end();
      await ownerPool.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`).catch(() => undefined);
      await ownerPool.end();
    },
  };
}
