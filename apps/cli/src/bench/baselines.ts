import { parseNatsUrl } from '#contracts';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import { runClosedLoop, type LoadResult } from './closed-loop.js';

export interface PhaseSettings {
  concurrency: number;
  durationMs: number;
  warmupMs: number;
}

/**
 * What the machine's NATS can do: request-reply round trips with a trivial responder in another
 * connection, `concurrency` requests outstanding, small JSON bodies.
 */
export async function natsRequestReplyBaseline(natsUrl: string, s: PhaseSettings): Promise<LoadResult> {
  const server = await connect(parseNatsUrl(natsUrl));
  const client = await connect(parseNatsUrl(natsUrl));
  const subject = `agentos-bench.echo.${process.pid}`;
  server.subscribe(subject, {
    callback: (_err, m) => {
      m.respond(m.data);
    },
  });
  await server.flush();
  const body = JSON.stringify({ id: 'x', syscall: 'SYS_WRITE', args: { path: '/mem/working/a', data: 'hello world' } });
  try {
    return await runClosedLoop({ ...s, op: async () => void (await client.request(subject, body, { timeout: 5000 })) });
  } finally {
    await client.close();
    await server.close();
  }
}

export interface PgBaselines {
  /** One INSERT per transaction (autocommit), `concurrency` connections. */
  singleRow: LoadResult;
  /** Rows per second with `batchRows` rows per INSERT, one transaction each. */
  batched: LoadResult;
  batchRows: number;
  singleRowConnections: number;
}

/**
 * What the machine's Postgres can do with rows shaped like events (a few hundred bytes of text,
 * a primary key and a unique index), committed with the server's durability settings.
 */
export async function pgInsertBaselines(
  pgUrl: string,
  schema: string,
  s: PhaseSettings,
  batchRows = 500,
): Promise<PgBaselines> {
  const connections = Math.min(s.concurrency, 32);
  const pool = new pg.Pool({ connectionString: pgUrl, max: connections, options: `-c search_path=${schema}` });
  try {
    await pool.query(`CREATE TABLE IF NOT EXISTS bench_rows (
      id bigserial PRIMARY KEY, stream_id text NOT NULL, event_id uuid NOT NULL UNIQUE, data text NOT NULL,
      recorded_at timestamptz NOT NULL DEFAULT now())`);
    const data = JSON.stringify({
      syscall: 'SYS_WRITE',
      args: { path: '/mem/working/a', data: 'x'.repeat(120) },
      result: { success: true, returnValue: 120 },
    });
    const singleRow = await runClosedLoop({
      ...s,
      concurrency: connections,
      op: async (w) =>
        void (await pool.query(
          'INSERT INTO bench_rows (stream_id, event_id, data) VALUES ($1, gen_random_uuid(), $2)',
          [`w${w}`, data],
        )),
    });
    const streams = Array.from({ length: batchRows }, (_, i) => `w${i % 64}`);
    const datas = Array.from({ length: batchRows }, () => data);
    const batched = await runClosedLoop({
      ...s,
      concurrency: 4,
      op: async () => {
        await pool.query(
          `INSERT INTO bench_rows (stream_id, event_id, data) SELECT s, gen_random_uuid(), d FROM unnest($1::text[], $2::text[]) AS t(s, d)`,
          [streams, datas],
        );
        return batchRows;
      },
    });
    return { singleRow, batched, batchRows, singleRowConnections: connections };
  } finally {
    await pool.query('DROP TABLE IF EXISTS bench_rows').catch(() => undefined);
    await pool.end();
  }
}
