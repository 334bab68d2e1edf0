import { connect, type NatsConnection } from '@nats-io/transport-node';
import { parseNatsUrl } from '#contracts';

export interface NatsConnectOptions {
  url: string;
  /** Connection name shown by the NATS server (service and instance). */
  name: string;
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
    name: o.name,
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
