export * from './error-codes.js';
export * from './events/event-types.js';
export * from './protocol/signals.js';
export * from './protocol/syscall-wire.js';
export * from './protocol/syscalls.js';
export * from './recorder-api.js';
export * from './subjects.js';
