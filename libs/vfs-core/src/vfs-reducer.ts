import { EventTypes, type SyscallRecordedV1, type VfsEffectV1 } from '#contracts';
import type { VfsState } from './vfs-state.js';

/**
 * Folds one recorded effect. It trusts the record (never re-normalises a path or re-checks a
 * limit), so replay gives the same state even if the rules change in a later version.
 */
export function applyVfsEffect(state: VfsState, effect: VfsEffectV1, args: Record<string, unknown>, at: string): void {
  switch (effect.op) {
    case 'write': {
      const bytes = Buffer.from(String(args.data ?? ''), effect.encoding === 'base64' ? 'base64' : 'utf8');
      const f = state.files.get(effect.path);
      const before = f?.content.length ?? 0;
      const content = effect.mode === 'a' && f ? Buffer.concat([f.content, bytes]) : bytes;
      state.files.set(effect.path, { content, created: f?.created ?? at, modified: at });
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

/** Folds an event of the agent's stream: successful syscalls with a VFS effect; everything else is ignored. */
export function applyVfsEvent(state: VfsState, event: { type: string; schemaVersion?: number; data: unknown }): void {
  if (event.type !== EventTypes.SyscallRecorded || (event.schemaVersion ?? 1) !== 1) return;
  const d = event.data as SyscallRecordedV1;
  if (!d.vfs || !d.result?.success) return;
  applyVfsEffect(state, d.vfs, d.args ?? {}, d.at);
}
