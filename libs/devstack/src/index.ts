export * from './local-stack.js';
export * from './service-process.js';
