export * from './account-revocations.js';
export * from './nats-authority.js';
export * from './nkey-text.js';
export * from './server-config.js';
export * from './subject-permissions.js';
export * from './user-credentials.js';
