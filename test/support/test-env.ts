import { randomBytes } from 'node:crypto';

/** Servers the tests talk to: the real Postgres and NATS of this machine (or CI's). */
export const TEST_PG_URL = process.env.AGENTOS_TEST_PG_URL || 'postgres://postgres@127.0.0.1:5432/agentos_test';
export const TEST_NATS_URL = process.env.AGENTOS_TEST_NATS_URL || 'nats://127.0.0.1:4222';
/** Partitions of every test stack's log: the suite runs with 1 and again with 4 (scripts/test.sh). */
export const TEST_PARTITIONS = Number(process.env.AGENTOS_TEST_PARTITIONS || 1);

/** A name unique to this test run and file, so parallel runs never collide. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
}
