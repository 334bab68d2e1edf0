export * from './admin-client.js';
export * from './agent-client.js';
export * from './nats-connection.js';
export * from './syscall-errors.js';
export * from './tool-provider.js';
