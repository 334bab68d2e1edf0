export * from './agent-digest.js';
export * from './agent-reducer.js';
export * from './agent-snapshot.js';
export * from './agent-state.js';
export * from './delivery-plan.js';
export * from './signal-delivery.js';
