import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The outbox of signals across partitions: an index that finds SignalSent events by position
 * (small: only those events), and `relay_cursors`, how far each relay has delivered them. A cursor
 * is only a place to resume from: deliveries are idempotent, so one behind costs a re-check.
 */
export class CreateRelayCursors1764000000005 implements MigrationInterface {
  name = 'CreateRelayCursors1764000000005';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX events_signal_sent ON events (position) WHERE type = 'SignalSent'`);
    await q.query(`
      CREATE TABLE relay_cursors (
        name     text   NOT NULL,
        position bigint NOT NULL,
        CONSTRAINT relay_cursors_pkey PRIMARY KEY (name)
      )`);
    await q.query(`REVOKE ALL ON relay_cursors FROM PUBLIC`);
    await q.query(`GRANT SELECT, INSERT, UPDATE ON relay_cursors TO agentos_service`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE relay_cursors`);
    await q.query(`DROP INDEX events_signal_sent`);
  }
}
