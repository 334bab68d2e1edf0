import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `event_json(text)`: an event's canonical JSON text as jsonb, for queries. jsonb cannot hold
 * U+0000, which JSON text can (an agent may send it; the kernel records it verbatim), so the
 * escape is mapped to U+FFFD for querying only; the stored (hashed) text is untouched.
 */
export class CreateEventJsonFunction1764000000002 implements MigrationInterface {
  name = 'CreateEventJsonFunction1764000000002';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION event_json(t text) RETURNS jsonb
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
        AS $$ SELECT replace(t, '\\u0000', '\\ufffd')::jsonb $$`);
    await q.query(`GRANT EXECUTE ON FUNCTION event_json(text) TO agentos_service`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION event_json(text)`);
  }
}
