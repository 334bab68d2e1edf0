import { MOUNTS } from './mounts.js';

export type ResolvedPath =
  { ok: true; path: string; mount: string; readOnly: boolean; isMountRoot: boolean } | { ok: false; message: string };

const MAX_PATH = 1024;
const MAX_SEGMENT_BYTES = 255;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * Confines a path to the mount table. Unlike the seed (plain prefix match, no normalisation,
 * so `/mem/workingX` and `/mem/working/../../policy/p` slipped through), a path must already be
 * in normal form: absolute, no empty, `.` or `..` segments, no trailing slash, no control
 * characters or backslashes, and strictly inside a mount (or the mount root itself).
 */
export function resolveVfsPath(raw: unknown): ResolvedPath {
  if (typeof raw !== 'string') return { ok: false, message: 'path must be a string' };
  if (raw.length === 0 || raw.length > MAX_PATH)
    return { ok: false, message: `path must be 1..${MAX_PATH} characters` };
  if (CONTROL.test(raw)) return { ok: false, message: 'path contains control characters' };
  if (raw.includes('\\')) return { ok: false, message: 'path contains a backslash' };
  if (!raw.startsWith('/')) return { ok: false, message: `path must be absolute: ${raw}` };
  if (raw === '/') return { ok: false, message: 'path is outside every mount: /' };
  if (raw.endsWith('/')) return { ok: false, message: `path must not end with '/': ${raw}` };
  const segments = raw.slice(1).split('/');
  for (const s of segments) {
    if (s === '') return { ok: false, message: `path has an empty segment ('//'): ${raw}` };
    if (s === '.' || s === '..') return { ok: false, message: `path must not contain '.' or '..' segments: ${raw}` };
    if (Buffer.byteLength(s, 'utf8') > MAX_SEGMENT_BYTES)
      return { ok: false, message: 'a path segment is longer than 255 bytes' };
  }
  for (const m of MOUNTS) {
    if (raw === m.path) return { ok: true, path: raw, mount: m.path, readOnly: m.readOnly, isMountRoot: true };
    if (raw.startsWith(`${m.path}/`))
      return { ok: true, path: raw, mount: m.path, readOnly: m.readOnly, isMountRoot: false };
  }
  return { ok: false, message: `path is outside every mount: ${raw}` };
}
