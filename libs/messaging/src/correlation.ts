import { AsyncLocalStorage } from 'node:async_hooks';

/** NATS header carrying the id that follows one syscall through every service it touches. */
export const CORRELATION_HEADER = 'agentos-correlation-id';

const store = new AsyncLocalStorage<string>();

/** Runs `fn` with `id` as the current correlation id (outgoing requests carry it, logs name it). */
export function withCorrelation<T>(id: string, fn: () => T): T {
  return store.run(id, fn);
}

export function currentCorrelationId(): string | undefined {
  return store.getStore();
}
