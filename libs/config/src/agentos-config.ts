import { DEFAULT_PAYLOAD_LIMITS, parsePartitionList, type PayloadLimits } from '#contracts';

/**
 * Process configuration, read once from the environment. Every knob has a default that works on
 * a developer machine with Postgres and NATS on localhost; production overrides them per
 * Deployment (see deploy/ and README).
 */
export interface AgentOsConfig {
  /** Logical service name, used in logs, metrics and the `service` field of event metadata. */
  service: string;
  /** Instance id, unique per process: host name plus pid unless AGENTOS_INSTANCE_ID is set. */
  instanceId: string;
  natsUrl: string;
  /** Path of a NATS `.creds` file (AGENTOS_NATS_CREDS) when the servers use JWT auth. */
  natsCredsFile: string | null;
  /** First token of every subject. `agentos` in production; tests use their own to stay isolated. */
  subjectPrefix: string;
  pgUrl: string;
  /** Postgres schema that holds the event log (isolates deployments and test runs); partition k lives in `<schema>_p<k>`. */
  pgSchema: string;
  /** AGENTOS_PG_PARTITIONS: which partitions live on other Postgres servers (`2-3=postgres://...;...`). */
  pgPartitionMap: string;
  /** AGENTOS_RECORDER_PARTITIONS: the partitions a recorder writes (`0-1`); null: all of them. */
  recorderPartitions: number[] | null;
  /** Role assumed after connecting (least privilege); empty to keep the login role. */
  pgRole: string;
  pgPoolSize: number;
  /** HTTP port for health, readiness and Prometheus metrics; 0 picks a free port. */
  httpPort: number;
  logLevel: string;
  /** `json` (one object a line) or `pretty`. */
  logFormat: 'json' | 'pretty';
  /** Largest accepted request body, in bytes (limits.maxRequestBytes). */
  maxRequestBytes: number;
  /** Sizes that must fit each other and the NATS max_payload (checked at start). */
  limits: PayloadLimits;
  /** Deny everything until a policy is applied (default: permissive, as the seed without a policy engine). */
  failClosed: boolean;
  /** Propagate correlation ids between services (on with debug logs, or AGENTOS_TRACE=on). */
  trace: boolean;
  /** Reply subject prefixes a request may name (AGENTOS_REPLY_SUBJECT_PREFIXES, default `_INBOX.`). */
  replyPrefixes: string[];
}

const DEFAULT_HTTP_PORTS: Record<string, number> = {
  kernel: 8081,
  policy: 8082,
  recorder: 8083,
  vfs: 8084,
};

export function loadConfig(service: string, env: NodeJS.ProcessEnv = process.env): AgentOsConfig {
  const production = env.NODE_ENV === 'production';
  const limits: PayloadLimits = {
    maxRequestBytes: int(
      env.AGENTOS_MAX_REQUEST_BYTES,
      DEFAULT_PAYLOAD_LIMITS.maxRequestBytes,
      'AGENTOS_MAX_REQUEST_BYTES',
    ),
    maxToolResultBytes: int(
      env.AGENTOS_MAX_TOOL_RESULT_BYTES,
      DEFAULT_PAYLOAD_LIMITS.maxToolResultBytes,
      'AGENTOS_MAX_TOOL_RESULT_BYTES',
    ),
    maxFileBytes: int(
      env.AGENTOS_VFS_MAX_FILE_BYTES,
      DEFAULT_PAYLOAD_LIMITS.maxFileBytes,
      'AGENTOS_VFS_MAX_FILE_BYTES',
    ),
  };
  return {
    service,
    instanceId: env.AGENTOS_INSTANCE_ID || `${env.HOSTNAME || 'local'}-${process.pid}`,
    natsUrl: env.AGENTOS_NATS_URL || 'nats://127.0.0.1:4222',
    natsCredsFile: env.AGENTOS_NATS_CREDS || null,
    subjectPrefix: subjectPrefix(env.AGENTOS_SUBJECT_PREFIX || 'agentos'),
    pgUrl: env.AGENTOS_PG_URL || 'postgres://postgres@127.0.0.1:5432/agentos',
    pgSchema: identifier(env.AGENTOS_PG_SCHEMA || 'agentos', 'AGENTOS_PG_SCHEMA'),
    pgPartitionMap: env.AGENTOS_PG_PARTITIONS ?? '',
    recorderPartitions: env.AGENTOS_RECORDER_PARTITIONS
      ? partitions(env.AGENTOS_RECORDER_PARTITIONS, 'AGENTOS_RECORDER_PARTITIONS')
      : null,
    pgRole: env.AGENTOS_PG_ROLE ?? 'agentos_service',
    pgPoolSize: int(env.AGENTOS_PG_POOL_SIZE, 8, 'AGENTOS_PG_POOL_SIZE'),
    httpPort: int(env.AGENTOS_HTTP_PORT, DEFAULT_HTTP_PORTS[service] ?? 0, 'AGENTOS_HTTP_PORT'),
    logLevel: env.AGENTOS_LOG_LEVEL || env.LOG_LEVEL || 'info',
    logFormat:
      (env.AGENTOS_LOG_FORMAT as 'json' | 'pretty') || (production || !process.stdout.isTTY ? 'json' : 'pretty'),
    maxRequestBytes: limits.maxRequestBytes,
    limits,
    failClosed: bool(env.AGENTOS_FAIL_CLOSED, false),
    replyPrefixes: (env.AGENTOS_REPLY_SUBJECT_PREFIXES || '_INBOX.')
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean),
    trace: bool(env.AGENTOS_TRACE, ['debug', 'trace'].includes(env.AGENTOS_LOG_LEVEL || env.LOG_LEVEL || 'info')),
  };
}

function int(raw: string | undefined, fallback: number, name: string): number {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got '${raw}'`);
  return n;
}

function bool(raw: string | undefined, fallback: boolean): boolean {
  if (raw === undefined || raw === '') return fallback;
  return ['1', 'true', 'yes', 'on'].includes(raw.toLowerCase());
}

function identifier(raw: string, name: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(raw)) {
    throw new Error(`${name} must be a lower-case SQL identifier, got '${raw}'`);
  }
  return raw;
}

function subjectPrefix(raw: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(raw)) {
    throw new Error(`AGENTOS_SUBJECT_PREFIX must be one subject token, got '${raw}'`);
  }
  return raw;
}

function partitions(v: string, name: string): number[] {
  try {
    return parsePartitionList(v);
  } catch (err) {
    throw new Error(`${name}: ${(err as Error).message}`);
  }
}
