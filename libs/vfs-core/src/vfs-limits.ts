/** Per-agent resource limits of the VFS, checked when a syscall is decided (never on replay). */
export interface VfsLimits {
  /** Largest size of one file after a write. */
  maxFileBytes: number;
  /** Largest sum of all of an agent's file sizes after a write. */
  maxAgentBytes: number;
  /** Most descriptors an agent may hold open at once. */
  maxOpenFds: number;
  /**
   * Largest read result, as JSON text, that one reply can carry (the NATS max_payload less the
   * envelope). A read beyond it is refused with 3, never left to fail in transit.
   */
  maxReadReplyBytes?: number;
}

export const DEFAULT_VFS_LIMITS: Readonly<VfsLimits> = Object.freeze({
  maxFileBytes: 512 * 1024,
  maxAgentBytes: 16 * 1024 * 1024,
  maxOpenFds: 1024,
});
