export * from './local-stack.js';
export * from './service-process.js';
export * from './nats-server-process.js';
export * from './nats-cluster.js';
export * from './latency-proxy.js';
export * from './postgres-cluster.js';
