export * from './api-error.filter.js';
export * from './bootstrap.js';
export * from './committed-events.feed.js';
export * from './json-body.pipe.js';
export * from './postgres.module.js';
export * from './protocol-validation.pipe.js';
export * from './runtime.module.js';
export * from './runtime.tokens.js';
