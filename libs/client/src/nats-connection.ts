import { connect, errors, type NatsConnection } from '@nats-io/transport-node';
import { withSubjectPrefix } from '#contracts';

export interface ConnectionOptions {
  /** NATS server URL(s). */
  servers?: string | string[];
  /** Credentials when the server requires them (see `agentos nats-config`). */
  user?: string;
  pass?: string;
  /** Prefix of reply subjects; agents use a private one (`_INBOX.<agentId>`) that only they may read. */
  inboxPrefix?: string;
  /** Reuse an existing connection (the client will not close it). */
  nc?: NatsConnection;
  /** The deployment's first subject token (AGENTOS_SUBJECT_PREFIX); default `agentos`. */
  subjectPrefix?: string;
}

export async function openConnection(o: ConnectionOptions): Promise<{ nc: NatsConnection; owned: boolean }> {
  if (o.nc) return { nc: o.nc, owned: false };
  const servers = o.servers ?? 'nats://127.0.0.1:4222';
  const nc = await connect({
    servers,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    waitOnFirstConnect: true,
    ...(o.user ? { user: o.user, pass: o.pass } : {}),
    ...(o.inboxPrefix ? { inboxPrefix: o.inboxPrefix } : {}),
  });
  return { nc, owned: true };
}

/** `agentos.v1.x` with the deployment's prefix. */
export function prefixed(subject: string, prefix = 'agentos'): string {
  return withSubjectPrefix(subject, prefix);
}

/** Whether a NATS request failed in a way worth retrying (nobody answered, or not in time). */
export function isTransient(err: unknown): boolean {
  if (err instanceof errors.NoRespondersError || err instanceof errors.TimeoutError) return true;
  if (err instanceof errors.RequestError) return true;
  if (err instanceof errors.ConnectionError) return true;
  return false;
}
