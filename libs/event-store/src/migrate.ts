import pg from 'pg';
import type { DataSource } from 'typeorm';
import { MIGRATIONS } from './migrations/index.js';

export interface MigrateSettings {
  pgUrl: string;
  pgSchema: string;
}

/** A TypeORM data source for the schema's migrations (runs as the login role, which owns the schema). */
export async function createMigrationDataSource(s: MigrateSettings): Promise<DataSource> {
  // loaded on demand: TypeORM is only needed to migrate, not on every command line start
  const { DataSource } = await import('typeorm');
  return new DataSource({
    type: 'postgres',
    url: s.pgUrl,
    schema: s.pgSchema,
    migrations: MIGRATIONS,
    migrationsTableName: 'agentos_migrations',
    migrationsTransactionMode: 'each',
    extra: { options: `-c search_path=${s.pgSchema}`, max: 1 },
    logging: false,
  });
}

/**
 * Creates the database (when missing) and the schema, then applies pending migrations.
 * Returns the names of the migrations it applied. Safe to run concurrently from many replicas:
 * an advisory lock serialises them.
 */
export async function runMigrations(s: MigrateSettings): Promise<string[]> {
  await ensureDatabase(s.pgUrl);
  const admin = new pg.Client({ connectionString: s.pgUrl });
  await admin.connect();
  try {
    await admin.query('SELECT pg_advisory_lock(hashtext($1))', [`agentos-migrate:${s.pgSchema}`]);
    await admin.query(`CREATE SCHEMA IF NOT EXISTS "${s.pgSchema}"`);
    const ds = await createMigrationDataSource(s);
    await ds.initialize();
    try {
      const applied = await ds.runMigrations({ transaction: 'each' });
      return applied.map((m) => m.name);
    } finally {
      await ds.destroy();
    }
  } finally {
    await admin.query('SELECT pg_advisory_unlock_all()').catch(() => undefined);
    await admin.end();
  }
}

/** Names of migrations not yet applied to the schema (empty when it is current). */
export async function pendingMigrations(s: MigrateSettings): Promise<string[]> {
  const client = new pg.Client({ connectionString: s.pgUrl });
  client.on('error', () => undefined); // a dropped connection fails the query, not the process
  await client.connect();
  try {
    const exists = await client.query(
      `SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'agentos_migrations'`,
      [s.pgSchema],
    );
    const done = new Set<string>();
    if (exists.rowCount) {
      const rows = await client.query(`SELECT name FROM "${s.pgSchema}".agentos_migrations`);
      for (const r of rows.rows) done.add(r.name as string);
    }
    return MIGRATIONS.map((m) => new m().name).filter((n) => !done.has(n));
  } finally {
    await client.end();
  }
}

/** Creates the target database when it does not exist (connecting through the `postgres` database). */
async function ensureDatabase(pgUrl: string): Promise<void> {
  const url = new URL(pgUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!name || name === 'postgres') return;
  const probe = new pg.Client({ connectionString: pgUrl });
  try {
    await probe.connect();
    await probe.end();
    return;
  } catch (err) {
    await probe.end().catch(() => undefined);
    if ((err as { code?: string }).code !== '3D000') throw err; // only "database does not exist"
  }
  url.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: url.toString() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
  } catch (err) {
    // created concurrently: 42P04 when Postgres saw it, 23505 when both inserts raced in pg_database
    const code = (err as { code?: string }).code;
    if (code !== '42P04' && code !== '23505') throw err;
  } finally {
    await admin.end();
  }
}
