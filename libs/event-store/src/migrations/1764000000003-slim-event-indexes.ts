import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Fewer indexes on the hot table: every append maintains each of them. The b-trees on
 * `recorded_at` and `(type, position)` go; time ranges are served by a BRIN index on `recorded_at`
 * (events are appended in time order, so block ranges are tight; autovacuum summarizes each range
 * once it is full), and the only types read by type on their own (the kernel scans credential
 * events) get a small partial index. Other type filters are served by the position order they are
 * read in, or by the time range / stream that comes with them. Reads by position,
 * by stream, by event id and by idempotency key keep their unique indexes.
 */
export class SlimEventIndexes1764000000003 implements MigrationInterface {
  name = 'SlimEventIndexes1764000000003';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS events_type_position`);
    await q.query(`DROP INDEX IF EXISTS events_recorded_at`);
    // autosummarize: autovacuum summarizes each block range once it is full; an unsummarized range
    // matches every query, so without it a time range would read the whole table until a VACUUM
    await q.query(
      `CREATE INDEX events_recorded_at_brin ON events USING brin (recorded_at)
         WITH (pages_per_range = 32, autosummarize = on)`,
    );
    await q.query(
      `CREATE INDEX events_credential_position ON events (position)
         WHERE type IN ('CredentialIssued', 'CredentialRevoked')`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS events_credential_position`);
    await q.query(`DROP INDEX IF EXISTS events_recorded_at_brin`);
    await q.query(`CREATE INDEX events_recorded_at ON events (recorded_at)`);
    await q.query(`CREATE INDEX events_type_position ON events (type, position)`);
  }
}
