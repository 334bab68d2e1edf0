import type { ReturnedContentV2, SyscallResultV1, VfsEffectV1 } from './events/event-types.js';
import type { VfsSyscallName } from './protocol/syscalls.js';

/** Kernel → VFS: execute at the agent's stream version `version` (the kernel's decision base). */
export interface VfsExecuteRequest {
  agentId: string;
  version: number;
  syscall: VfsSyscallName;
  args: Record<string, unknown>;
  /** Decision time: file timestamps come from it, never from the VFS's clock. */
  at: string;
}

export type VfsExecuteReply =
  | { status: 'ok'; result: SyscallResultV1; effect?: VfsEffectV1; returned?: ReturnedContentV2 }
  /** The VFS has folded events past `version`: the kernel's view is stale, it must reload and retry. */
  | { status: 'stale'; version: number }
  | { error: { code: number; message: string } };

export interface VfsStateRequest {
  agentId: string;
  /** Fold up to at least this version first (0: whatever is current). */
  version?: number;
}

export interface VfsStateReply {
  agentId: string;
  version: number;
  digest: string;
  files: { path: string; size: number; contentHash: string; created: string; modified: string }[];
  fds: { fd: number; path: string; mode: string }[];
  totalBytes: number;
}
