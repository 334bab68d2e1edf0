import { recordedFileEffect, type SyscallRecordedV1, type VfsEffectV1 } from '#contracts';
import type { VfsState } from './vfs-state.js';

/** The part of a log event the VFS fold reads. */
export interface VfsFoldableEvent {
  type: string;
  /** Absent counts as 1 (synthetic events in tests and tools). */
  schemaVersion?: number;
  data: unknown;
}

/**
 * Folds one recorded effect into the state (mutating it). It trusts the record: it never
 * re-normalises a path or re-checks a limit, so replay gives the state the live service had even
 * after the rules change. `args` are the syscall's recorded arguments (the written data lives
 * there, not in the effect); `at` is the recorded decision time.
 */
export function applyVfsEffect(state: VfsState, effect: VfsEffectV1, args: Record<string, unknown>, at: string): void {
  switch (effect.op) {
    case 'write': {
      const data = typeof args.data === 'string' ? args.data : '';
      const bytes = Buffer.from(data, effect.encoding === 'base64' ? 'base64' : 'utf8');
      const file = state.files.get(effect.path);
      const before = file?.content.length ?? 0;
      const content = effect.mode === 'a' && file ? Buffer.concat([file.content, bytes]) : bytes;
      state.files.set(effect.path, { content, created: file?.created ?? at, modified: at });
      state.totalBytes += content.length - before;
      break;
    }
    case 'open':
      state.fds.set(effect.fd, { path: effect.path, mode: effect.mode });
      state.nextFd = Math.max(state.nextFd, effect.fd + 1);
      break;
    case 'close':
      state.fds.delete(effect.fd);
      break;
  }
}

/**
 * Folds an event of the agent's stream: a successful SyscallRecorded (v1 or v2) with a VFS
 * effect. Every other event (other types, other schema versions, failed syscalls) leaves the
 * state as is. Total: an effect of no known shape is skipped (the agent's own fold reports it as
 * a fault), so no recorded data can make a file system unreadable. Returns whether it applied an
 * effect (then the files are as of this event).
 */
export function applyVfsEvent(state: VfsState, event: VfsFoldableEvent): boolean {
  const effect = recordedFileEffect(event.type, event.schemaVersion, event.data);
  if (!effect) return false;
  const d = event.data as Partial<SyscallRecordedV1>;
  const args = d.args && typeof d.args === 'object' ? d.args : {};
  applyVfsEffect(state, effect, args, typeof d.at === 'string' ? d.at : '');
  return true;
}
