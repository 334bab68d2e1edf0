import { connect, credsAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import { parseNatsUrl, withSubjectPrefix } from '#contracts';

export interface ConnectionOptions {
  /** NATS server URL(s); `nats://user:pass@host:4222` credentials are accepted as operators write them. */
  servers?: string | string[];
  /** Credentials when the server requires them and the URL does not carry them. */
  user?: string;
  pass?: string;
  /** The text of a NATS `.creds` file (JWT and NKey seed) when the servers use decentralised auth. */
  creds?: string;
  /** Prefix of reply subjects; agents use a private one (`_INBOX.<agentId>`) that only they may read. */
  inboxPrefix?: string;
  /** Reuse an existing connection (the client will then never close it). */
  nc?: NatsConnection;
  /** The deployment's first subject token (AGENTOS_SUBJECT_PREFIX); default `agentos`. */
  subjectPrefix?: string;
}

export const DEFAULT_SERVERS = 'nats://127.0.0.1:4222';
export const DEFAULT_SUBJECT_PREFIX = 'agentos';

/** The given connection, or a new one that keeps reconnecting; `owned` says who must close it. */
export async function openConnection(o: ConnectionOptions): Promise<{ nc: NatsConnection; owned: boolean }> {
  if (o.nc) return { nc: o.nc, owned: false };
  // nats.js takes credentials only as options, so they are lifted out of the URLs.
  const urls = Array.isArray(o.servers) ? o.servers.join(',') : (o.servers ?? DEFAULT_SERVERS);
  const { servers, user, pass } = parseNatsUrl(urls);
  const nc = await connect({
    servers,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    waitOnFirstConnect: true,
    ...((o.user ?? user) ? { user: o.user ?? user, pass: o.pass ?? pass } : {}),
    ...(o.inboxPrefix ? { inboxPrefix: o.inboxPrefix } : {}),
    ...(o.creds ? { authenticator: credsAuthenticator(new TextEncoder().encode(o.creds)) } : {}),
  });
  return { nc, owned: true };
}

/** A protocol subject (`agentos.v1....`) on the deployment's prefix. */
export function prefixed(subject: string, prefix = DEFAULT_SUBJECT_PREFIX): string {
  return withSubjectPrefix(subject, prefix);
}
