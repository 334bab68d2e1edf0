import { connect, credsAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import { parseNatsUrl } from '#contracts';

export interface NatsConnectOptions {
  url: string;
  /** Connection name shown by the NATS server (service and instance). */
  name: string;
  /**
   * Where replies to this connection's requests arrive. Services use `_INBOX.$<service>`, which
   * their credentials may subscribe to and no agent's can (`$` is not in an agent id).
   */
  inboxPrefix?: string;
  /** Text of a NATS `.creds` file (JWT and NKey seed), for deployments with decentralised auth. */
  creds?: string;
  onStatus?: (type: string, detail?: string) => void;
}

/**
 * Connects to NATS and keeps reconnecting forever: a service never gives up on the bus, it just
 * reports itself not ready while disconnected. Waits for the first connection too, so a service
 * may start before NATS does.
 */
export async function connectNats(o: NatsConnectOptions): Promise<NatsConnection> {
  const { servers, user, pass } = parseNatsUrl(o.url);
  const nc = await connect({
    servers,
    ...(user ? { user, pass } : {}),
    ...(o.creds ? { authenticator: credsAuthenticator(new TextEncoder().encode(o.creds)) } : {}),
    name: o.name,
    ...(o.inboxPrefix ? { inboxPrefix: o.inboxPrefix } : {}),
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    reconnectJitter: 100,
    waitOnFirstConnect: true,
    pingInterval: 10_000,
    maxPingOut: 3,
    timeout: 5_000,
    // nats.js otherwise captures a stack trace for every request up front; on the syscall path
    // that was ~7 % of the kernel's CPU. Request errors still say what failed, just not where.
    noAsyncTraces: true,
  });
  if (o.onStatus) {
    const onStatus = o.onStatus;
    void (async () => {
      for await (const s of nc.status()) {
        onStatus(s.type, 'error' in s && s.error ? String(s.error) : undefined);
      }
    })().catch(() => undefined);
  }
  return nc;
}

/**
 * Whether the connection is usable now, for readiness: not only "not closed" (a client that
 * reconnects forever is never closed) but connected, as its status events last said.
 */
export function natsConnectionState(nc: NatsConnection): { connected(): boolean; check(): true | string } {
  let connected = !nc.isClosed();
  let since = Date.now();
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect' || s.type === 'close') {
        if (connected) since = Date.now();
        connected = false;
      } else if (s.type === 'reconnect') {
        connected = true;
      }
    }
  })().catch(() => undefined);
  return {
    connected: () => connected && !nc.isClosed(),
    check: () => {
      if (nc.isClosed()) return 'NATS connection closed';
      return connected ? true : `NATS disconnected for ${Math.round((Date.now() - since) / 1000)} s; reconnecting`;
    },
  };
}
