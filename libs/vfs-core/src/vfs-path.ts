import { excerpt, typeName } from './message-text.js';
import { MOUNTS } from './mounts.js';

export type ResolvedVfsPath =
  | {
      ok: true;
      path: string;
      mount: string;
      readOnly: boolean;
      /** The mount itself (`/mem/working`): always a directory. */
      isMountRoot: boolean;
    }
  | { ok: false; message: string };

export const MAX_PATH_CHARS = 1024;
export const MAX_SEGMENT_BYTES = 255;

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
/** How much of an offending path an error message repeats. */
const ECHO_CHARS = 120;

/**
 * Confines a path to the mount table. Unlike the seed (plain prefix match, no normalisation, so
 * `/mem/workingX` and `/mem/working/../../policy/p` slipped through), a path must already be in
 * normal form, and is then its own canonical key: nothing is rewritten, so what an agent asks
 * for is what gets recorded.
 */
export function resolveVfsPath(raw: unknown): ResolvedVfsPath {
  if (typeof raw !== 'string') return fail(`Invalid path: must be a string, got ${typeName(raw)}`);
  if (raw.length === 0 || raw.length > MAX_PATH_CHARS) {
    return fail(`Invalid path: must be 1..${MAX_PATH_CHARS} characters long, got ${raw.length}`);
  }
  const control = CONTROL.exec(raw);
  if (control) {
    const code = control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    return fail(`Invalid path: control character U+${code} at index ${control.index}`);
  }
  // Lone surrogates have no UTF-8 form: they would not survive the log's JSON.
  if (!raw.isWellFormed()) return fail('Invalid path: contains an unpaired UTF-16 surrogate');
  if (raw.includes('\\')) return fail(`Invalid path: backslashes are not allowed: ${echo(raw)}`);
  if (!raw.startsWith('/')) return fail(`Invalid path: must be absolute (start with '/'): ${echo(raw)}`);
  if (raw.length > 1 && raw.endsWith('/')) return fail(`Invalid path: must not end with '/': ${echo(raw)}`);
  const segments = raw === '/' ? [] : raw.slice(1).split('/');
  for (const s of segments) {
    if (s === '') return fail(`Invalid path: empty segment ('//'): ${echo(raw)}`);
    if (s === '.' || s === '..') return fail(`Invalid path: '.' and '..' segments are not allowed: ${echo(raw)}`);
    if (Buffer.byteLength(s, 'utf8') > MAX_SEGMENT_BYTES) {
      return fail(`Invalid path: segment '${echo(s)}' is longer than ${MAX_SEGMENT_BYTES} bytes in UTF-8`);
    }
  }
  for (const m of MOUNTS) {
    if (raw === m.path) return { ok: true, path: raw, mount: m.path, readOnly: m.readOnly, isMountRoot: true };
    if (raw.startsWith(`${m.path}/`)) {
      return { ok: true, path: raw, mount: m.path, readOnly: m.readOnly, isMountRoot: false };
    }
  }
  return fail(`Path outside every mount: ${echo(raw)} (mounts: ${MOUNTS.map((m) => m.path).join(', ')})`);
}

function fail(message: string): ResolvedVfsPath {
  return { ok: false, message };
}

function echo(s: string): string {
  return excerpt(s, ECHO_CHARS);
}
