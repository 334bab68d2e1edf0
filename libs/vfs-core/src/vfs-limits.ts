export interface VfsLimits {
  maxFileBytes: number;
  maxAgentBytes: number;
  maxOpenFds: number;
}

export const DEFAULT_VFS_LIMITS: VfsLimits = {
  maxFileBytes: 1024 * 1024,
  maxAgentBytes: 16 * 1024 * 1024,
  maxOpenFds: 1024,
};
