import { connect, credsAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import { LocalStack, type ServiceName } from '#devstack';
import { parseNatsUrl, withSubjectPrefix } from '#contracts';
import { TEST_NATS_URL, TEST_PARTITIONS, TEST_PG_URL, uniqueName } from './test-env.js';

export interface TestStack {
  stack: LocalStack;
  nc: NatsConnection;
  prefix: string;
  schema: string;
  /** The deployment's concrete subject for a protocol subject. */
  subject(protocolSubject: string): string;
  /** Plain JSON request-reply, as any NATS client would do it. */
  request<T = Record<string, unknown>>(protocolSubject: string, body: unknown, timeoutMs?: number): Promise<T>;
  /** Raw bytes request (for malformed bodies). */
  requestRaw(protocolSubject: string, body: string | Uint8Array, timeoutMs?: number): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

export interface TestStackOptions {
  services?: ServiceName[];
  env?: Record<string, string>;
  pgUrl?: string;
  natsUrl?: string;
  /** `.creds` text for the test's own connection, when the server uses JWT auth. */
  natsCreds?: string;
  /** A subject prefix of the test's choosing (default: a unique one). */
  prefix?: string;
  /** Partitions of the log (default AGENTOS_TEST_PARTITIONS, or 1). */
  partitions?: number;
  /** AGENTOS_PG_PARTITIONS for the stack (partitions on other servers). */
  partitionMap?: string;
}

/** A private deployment for one test file: own schema, own subject prefix, services as processes. */
export async function startTestStack(o: TestStackOptions = {}): Promise<TestStack> {
  const schema = uniqueName('e2e').toLowerCase();
  const prefix = o.prefix ?? uniqueName('t').replace(/_/g, '-');
  const natsUrl = o.natsUrl ?? TEST_NATS_URL;
  const stack = await LocalStack.create({
    pgUrl: o.pgUrl ?? TEST_PG_URL,
    natsUrl,
    schema,
    subjectPrefix: prefix,
    partitions: o.partitions ?? TEST_PARTITIONS,
    partitionMap: o.partitionMap,
    env: o.env,
  });
  for (const s of o.services ?? []) await stack.start(s);
  const nc = await connect({
    ...parseNatsUrl(natsUrl),
    ...(o.natsCreds ? { authenticator: credsAuthenticator(new TextEncoder().encode(o.natsCreds)) } : {}),
    maxReconnectAttempts: -1,
    reconnectTimeWait: 100,
  });
  const subject = (s: string) => withSubjectPrefix(s, prefix);
  return {
    stack,
    nc,
    prefix,
    schema,
    subject,
    async request<T>(s: string, body: unknown, timeoutMs = 10_000) {
      const m = await nc.request(subject(s), JSON.stringify(body), { timeout: timeoutMs });
      return m.json<T>();
    },
    async requestRaw(s: string, body: string | Uint8Array, timeoutMs = 10_000) {
      const m = await nc.request(subject(s), body, { timeout: timeoutMs });
      return m.json<Record<string, unknown>>();
    },
    async close() {
      await nc.close().catch(() => undefined);
      await stack.destroy();
    },
  };
}
