export * from './agentos-config.js';
