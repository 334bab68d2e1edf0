import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The event log: one append-only table, a one-row head that serialises writers (and so gives
 * readers a gap-free order, invariant 5), and the guards that make the database itself refuse
 * UPDATE, DELETE and TRUNCATE on events (invariant 6).
 */
export class CreateEventLog1764000000000 implements MigrationInterface {
  name = 'CreateEventLog1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE events (
        position        bigint      NOT NULL,
        stream_id       text        NOT NULL,
        stream_version  bigint      NOT NULL,
        event_id        uuid        NOT NULL,
        idempotency_key text,
        type            text        NOT NULL,
        schema_version  integer     NOT NULL,
        data            text        NOT NULL,
        metadata        text        NOT NULL,
        recorded_at     timestamptz NOT NULL,
        prev_hash       text        NOT NULL,
        hash            text        NOT NULL,
        CONSTRAINT events_pkey PRIMARY KEY (position),
        CONSTRAINT events_position_positive CHECK (position > 0),
        CONSTRAINT events_stream_version_positive CHECK (stream_version > 0),
        CONSTRAINT events_stream_version_unique UNIQUE (stream_id, stream_version),
        CONSTRAINT events_event_id_unique UNIQUE (event_id)
      )`);
    await q.query(
      `CREATE UNIQUE INDEX events_idempotency_key ON events (stream_id, idempotency_key)
         WHERE idempotency_key IS NOT NULL`,
    );
    await q.query(`CREATE INDEX events_recorded_at ON events (recorded_at)`);
    await q.query(`CREATE INDEX events_type_position ON events (type, position)`);

    await q.query(`
      CREATE TABLE log_head (
        singleton   boolean     NOT NULL DEFAULT true,
        position    bigint      NOT NULL,
        hash        text        NOT NULL,
        recorded_at timestamptz,
        CONSTRAINT log_head_pkey PRIMARY KEY (singleton),
        CONSTRAINT log_head_singleton CHECK (singleton)
      )`);
    await q.query(`INSERT INTO log_head (position, hash) VALUES (0, repeat('0', 64))`);

    await q.query(`
      CREATE FUNCTION events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'the event log is append-only: % on % is refused', TG_OP, TG_TABLE_NAME
          USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await q.query(`
      CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
        FOR EACH ROW EXECUTE FUNCTION events_refuse_change()`);
    await q.query(`
      CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
        FOR EACH STATEMENT EXECUTE FUNCTION events_refuse_change()`);
    await q.query(`
      CREATE TRIGGER log_head_no_delete BEFORE DELETE ON log_head
        FOR EACH ROW EXECUTE FUNCTION events_refuse_change()`);
    await q.query(`
      CREATE TRIGGER log_head_no_truncate BEFORE TRUNCATE ON log_head
        FOR EACH STATEMENT EXECUTE FUNCTION events_refuse_change()`);

    // Services run as agentos_service: INSERT and SELECT on events, nothing else. Roles are
    // cluster-wide, so creating it must tolerate a concurrent migration of another schema.
    await q.query(`
      DO $$ BEGIN
        CREATE ROLE agentos_service NOLOGIN;
      EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
      END $$`);
    await q.query(`
      DO $$ BEGIN
        EXECUTE format('GRANT USAGE ON SCHEMA %I TO agentos_service', current_schema());
      END $$`);
    await q.query(`REVOKE ALL ON events, log_head FROM PUBLIC`);
    await q.query(`GRANT SELECT, INSERT ON events TO agentos_service`);
    await q.query(`GRANT SELECT, UPDATE ON log_head TO agentos_service`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE log_head`);
    await q.query(`DROP TABLE events`);
    await q.query(`DROP FUNCTION events_refuse_change()`);
  }
}
