import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Snapshots of folded state per stream and kind (kernel, vfs). They are a cache, not the record:
 * dropping them changes nothing but restart time, so unlike events they may be replaced.
 */
export class CreateSnapshots1764000000001 implements MigrationInterface {
  name = 'CreateSnapshots1764000000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE snapshots (
        stream_id      text        NOT NULL,
        kind           text        NOT NULL,
        version        bigint      NOT NULL,
        position       bigint      NOT NULL,
        schema_version integer     NOT NULL,
        state          text        NOT NULL,
        created_at     timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT snapshots_pkey PRIMARY KEY (stream_id, kind)
      )`);
    await q.query(`REVOKE ALL ON snapshots FROM PUBLIC`);
    await q.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON snapshots TO agentos_service`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE snapshots`);
  }
}
