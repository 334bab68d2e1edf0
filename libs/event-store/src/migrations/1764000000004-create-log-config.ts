import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `log_config`: how many partitions the log has and which one this schema holds. Every
 * partition is a schema of its own (same tables), on whichever server the layout places it; a log
 * created before partitions existed is partition 0 of 1. Set once, when the log is created
 * (`agentos migrate --partitions P`), never changed by a running system.
 */
export class CreateLogConfig1764000000004 implements MigrationInterface {
  name = 'CreateLogConfig1764000000004';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE log_config (
        singleton  boolean NOT NULL DEFAULT true,
        partitions integer NOT NULL,
        partition  integer NOT NULL,
        CONSTRAINT log_config_pkey PRIMARY KEY (singleton),
        CONSTRAINT log_config_singleton CHECK (singleton),
        CONSTRAINT log_config_partition CHECK (partition >= 0 AND partition < partitions AND partitions <= 256)
      )`);
    await q.query(`INSERT INTO log_config (partitions, partition) VALUES (1, 0)`);
    await q.query(`REVOKE ALL ON log_config FROM PUBLIC`);
    await q.query(`GRANT SELECT ON log_config TO agentos_service`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE log_config`);
  }
}
