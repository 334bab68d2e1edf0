import type { ReturnedContentV2, SyscallResultV1, VfsEffectV1 } from './events/event-types.js';
import type { VfsSyscallName } from './protocol/syscalls.js';

/**
 * Which recorded event an agent's files are as of: the stream version and id of the last event
 * with a file effect (0 and null before any). The kernel knows it from the agent's stream; the
 * VFS decides on exactly those files, whatever else the stream holds.
 */
export interface FilesBase {
  version: number;
  eventId: string | null;
}

/** Kernel → VFS: one file syscall to decide. */
export interface VfsExecuteItem {
  agentId: string;
  base: FilesBase;
  /** The id and stream version the syscall's event will have if it commits: naming it as a later base confirms its effect. */
  eventId: string;
  version: number;
  syscall: VfsSyscallName;
  args: Record<string, unknown>;
  /** Decision time: file timestamps come from it, never from the VFS's clock. */
  at: string;
}

export type VfsItemResult =
  | { status: 'ok'; result: SyscallResultV1; effect?: VfsEffectV1; returned?: ReturnedContentV2 }
  /** The VFS knows later files than `base`: the kernel's view is stale, it must reload and decide again. */
  | { status: 'stale'; base: FilesBase }
  | { error: { code: number; message: string } };

/** `agentos.internal.vfs.execute`: the file syscalls of many agents in one message, answered in order. */
export interface VfsExecuteRequest {
  items: VfsExecuteItem[];
}

export interface VfsExecuteReply {
  results: VfsItemResult[];
}

export interface VfsStateRequest {
  agentId: string;
  base: FilesBase;
}

export interface VfsStateReply {
  agentId: string;
  base: FilesBase;
  digest: string;
  files: { path: string; size: number; contentHash: string; created: string; modified: string }[];
  fds: { fd: number; path: string; mode: string }[];
  totalBytes: number;
}
