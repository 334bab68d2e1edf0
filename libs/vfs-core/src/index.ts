export * from './mounts.js';
export * from './vfs-digest.js';
export * from './vfs-executor.js';
export * from './vfs-limits.js';
export * from './vfs-path.js';
export * from './vfs-reducer.js';
export * from './vfs-snapshot.js';
export * from './vfs-state.js';
