import type { VfsEffectV1 } from './event-types.js';

/**
 * Whether a recorded VFS effect has the shape its fold needs. Folds check what they read (a log
 * may predate the recorder's schema checks), and skip or report what fails, never throw.
 */
export function isVfsEffectV1(x: unknown): x is VfsEffectV1 {
  if (x === null || typeof x !== 'object' || Array.isArray(x)) return false;
  const e = x as Record<string, unknown>;
  const fd = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 1;
  switch (e.op) {
    case 'write':
      return (
        typeof e.path === 'string' &&
        (e.mode === 'w' || e.mode === 'a') &&
        (e.encoding === 'utf8' || e.encoding === 'base64') &&
        Number.isSafeInteger(e.bytes)
      );
    case 'open':
      return typeof e.path === 'string' && (e.mode === 'r' || e.mode === 'w' || e.mode === 'a') && fd(e.fd);
    case 'close':
      return fd(e.fd);
    default:
      return false;
  }
}

/**
 * The file effect a recorded event carries, if the VFS fold applies one: a successful
 * SyscallRecorded (v1 or v2) with a `vfs` effect of known shape. The one rule for "this event
 * changed the agent's files", shared by the VFS fold and the kernel's record of the files' base.
 */
export function recordedFileEffect(type: string, schemaVersion: number | undefined, data: unknown): VfsEffectV1 | null {
  if (type !== 'SyscallRecorded') return null;
  const v = schemaVersion ?? 1;
  if (v !== 1 && v !== 2) return null;
  if (data === null || typeof data !== 'object') return null;
  const d = data as { result?: { success?: unknown }; vfs?: unknown };
  if (!d.result || typeof d.result !== 'object' || d.result.success !== true) return null;
  return isVfsEffectV1(d.vfs) ? d.vfs : null;
}
