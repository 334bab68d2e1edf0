import pg from 'pg';

export interface PgSettings {
  pgUrl: string;
  pgSchema: string;
  /** Role assumed for the session (least privilege); empty keeps the login role. */
  pgRole?: string;
  poolSize?: number;
  applicationName?: string;
  /** Session statement_timeout (ms): a statement that runs longer is cancelled (default: none). */
  statementTimeoutMs?: number;
}

const INT8_OID = 20;

/**
 * A pool whose sessions see only the deployment's schema and, by default, act as the
 * least-privileged `agentos_service` role, which may INSERT and SELECT events but never
 * UPDATE, DELETE or TRUNCATE them. int8 columns (positions, versions) come back as numbers; they
 * stay below 2^53 for any realistic log.
 */
export function createPgPool(s: PgSettings): pg.Pool {
  const options = [`-c search_path=${s.pgSchema}`];
  if (s.pgRole) options.push(`-c role=${s.pgRole}`);
  if (s.statementTimeoutMs !== undefined)
    options.push(`-c statement_timeout=${Math.max(0, Math.floor(s.statementTimeoutMs))}`);
  const pool = new pg.Pool({
    connectionString: s.pgUrl,
    max: s.poolSize ?? 4,
    options: options.join(' '),
    application_name: s.applicationName ?? 'agentos',
    connectionTimeoutMillis: 3000,
    idleTimeoutMillis: 30000,
    keepAlive: true,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID
          ? (v: string) => Number(v)
          : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
    },
  });
  // A client losing its connection must never crash the process: idle ones are reported on the
  // pool, checked-out ones on the client (their query fails and the caller handles that).
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}
