import { errors } from '@nats-io/transport-node';

/**
 * Whether a failed NATS request may succeed when repeated: nobody answered (no responders), not in
 * time (timeout), or the connection dropped and is reconnecting. A permission violation, or a
 * connection this process closed or is draining, will fail the same way again.
 */
export function isRetryableTransportError(err: unknown): boolean {
  if (err instanceof errors.TimeoutError || err instanceof errors.NoRespondersError) return true;
  if (err instanceof errors.ConnectionError) return true;
  if (err instanceof errors.RequestError) {
    if (err.isNoResponders()) return true;
    return err.message === 'connection disconnected';
  }
  return false;
}
