export * from './error-codes.js';
export * from './recorder-api.js';
export * from './subjects.js';
