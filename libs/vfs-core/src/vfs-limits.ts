/** Per-agent resource limits of the VFS, checked when a syscall is decided (never on replay). */
export interface VfsLimits {
  /** Largest size of one file after a write. */
  maxFileBytes: number;
  /** Largest sum of all of an agent's file sizes after a write. */
  maxAgentBytes: number;
  /** Most descriptors an agent may hold open at once. */
  maxOpenFds: number;
}

export const DEFAULT_VFS_LIMITS: Readonly<VfsLimits> = Object.freeze({
  maxFileBytes: 1024 * 1024,
  maxAgentBytes: 16 * 1024 * 1024,
  maxOpenFds: 1024,
});
