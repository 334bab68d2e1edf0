export * from './correlation.js';
export * from './nats-connect.js';
export * from './nats-request.context.js';
export * from './nats-rpc.client.js';
export * from './raw-nats.transport.js';
export * from './subjects.js';
export * from './raw-json.js';
