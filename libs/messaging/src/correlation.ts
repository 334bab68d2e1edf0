import { AsyncLocalStorage } from 'node:async_hooks';

/** NATS header carrying the id that follows one syscall through every service it touches. */
export const CORRELATION_HEADER = 'agentos-correlation-id';

const store = new AsyncLocalStorage<string>();
let propagating = false;

/**
 * Turns propagation on or off for this process. It costs about a tenth of the syscall path's
 * throughput (an async context per syscall, a header on every internal request), so services
 * enable it when someone reads per-request logs (AGENTOS_LOG_LEVEL=debug) or AGENTOS_TRACE=on.
 */
export function setCorrelationPropagation(enabled: boolean): void {
  propagating = enabled;
}

export function correlationPropagation(): boolean {
  return propagating;
}

/** Runs `fn` with `id` as the current correlation id (outgoing requests carry it, logs name it). */
export function withCorrelation<T>(id: string, fn: () => T): T {
  return propagating ? store.run(id, fn) : fn();
}

export function currentCorrelationId(): string | undefined {
  return store.getStore();
}
