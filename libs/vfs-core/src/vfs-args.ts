import { ErrorCode } from '#contracts';
import { excerpt, typeName } from './message-text.js';
import { VfsFailure } from './vfs-failure.js';
import { resolveVfsPath, type ResolvedVfsPath } from './vfs-path.js';

/** Argument readers of the file syscalls: 1 when required and absent, -5 when of the wrong type or value. */

export type ResolvedPath = Extract<ResolvedVfsPath, { ok: true }>;

/** JSON null counts as absent, as an omitted key does. */
function isAbsent(v: unknown): v is undefined | null {
  return v === undefined || v === null;
}

/** `path`: absent or empty is 1 (the seed's `if not path`), not a string -5, not confined to a mount 3. */
export function requiredPath(args: Record<string, unknown>): ResolvedPath {
  const raw = args.path;
  if (isAbsent(raw) || raw === '') throw new VfsFailure(ErrorCode.MISSING_ARGUMENT, 'Missing argument: path');
  if (typeof raw !== 'string') {
    throw new VfsFailure(ErrorCode.INVALID_REQUEST, `Invalid argument: path must be a string, got ${typeName(raw)}`);
  }
  const p = resolveVfsPath(raw);
  if (!p.ok) throw new VfsFailure(ErrorCode.VFS_ERROR, p.message);
  return p;
}

/** A required string that may be empty (`data`: writing nothing is a valid write). */
export function requiredString(args: Record<string, unknown>, name: string): string {
  const v = args[name];
  if (isAbsent(v)) throw new VfsFailure(ErrorCode.MISSING_ARGUMENT, `Missing argument: ${name}`);
  if (typeof v !== 'string') {
    throw new VfsFailure(ErrorCode.INVALID_REQUEST, `Invalid argument: ${name} must be a string, got ${typeName(v)}`);
  }
  return v;
}

/** An optional argument that must be one of a few exact strings. */
export function optionalChoice<T extends string>(
  args: Record<string, unknown>,
  name: string,
  choices: readonly T[],
  fallback: T,
): T {
  const v = args[name];
  if (isAbsent(v)) return fallback;
  if (typeof v === 'string' && (choices as readonly string[]).includes(v)) return v as T;
  const shown = typeof v === 'string' ? `'${excerpt(v, 32)}'` : typeName(v);
  const allowed = choices.map((c) => `'${c}'`).join(', ');
  throw new VfsFailure(ErrorCode.INVALID_REQUEST, `Invalid argument: ${name} must be one of ${allowed}, got ${shown}`);
}

/** `fd`: a positive integer. */
export function requiredFd(args: Record<string, unknown>): number {
  const v = args.fd;
  if (isAbsent(v)) throw new VfsFailure(ErrorCode.MISSING_ARGUMENT, 'Missing argument: fd');
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) {
    const shown = typeof v === 'number' ? String(v) : typeName(v);
    throw new VfsFailure(ErrorCode.INVALID_REQUEST, `Invalid argument: fd must be a positive integer, got ${shown}`);
  }
  return v;
}
