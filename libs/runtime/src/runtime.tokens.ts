/** Injection tokens for what every service process has exactly one of. */
export const AGENTOS_CONFIG = Symbol('AGENTOS_CONFIG');
export const NATS_CONNECTION = Symbol('NATS_CONNECTION');
export const ROOT_LOGGER = Symbol('ROOT_LOGGER');
