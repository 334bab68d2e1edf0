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
