import { createHash } from 'node:crypto';
import { ErrorCode, type VfsEffectV1, type VfsSyscallName } from '#contracts';
import type { VfsLimits } from './vfs-limits.js';
import { resolveVfsPath } from './vfs-path.js';
import type { VfsState } from './vfs-state.js';

export type VfsOutcome =
  { ok: true; returnValue: unknown; effect?: VfsEffectV1 } | { ok: false; code: number; message: string };

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Decides a file syscall on an agent's VFS: the reply and the effect to record. Pure: the state
 * changes only when the recorded effect is folded (applyVfsEvent), so a decision that is never
 * committed changes nothing.
 */
export function executeVfsSyscall(
  state: VfsState,
  syscall: VfsSyscallName,
  args: Record<string, unknown>,
  at: string,
  limits: VfsLimits,
): VfsOutcome {
  switch (syscall) {
    case 'SYS_WRITE':
      return write(state, args, limits);
    case 'SYS_READ':
      return read(state, args);
    case 'SYS_OPEN':
      return open(state, args, limits);
    case 'SYS_CLOSE':
      return close(state, args);
    case 'SYS_STAT':
      return stat(state, args);
  }
  void at;
  return err(ErrorCode.INVALID_REQUEST, `not a file syscall: ${String(syscall)}`);
}

function write(state: VfsState, args: Record<string, unknown>, limits: VfsLimits): VfsOutcome {
  if (isMissing(args.path) || args.data === undefined || args.data === null)
    return err(ErrorCode.MISSING_ARGUMENT, 'Missing path or data');
  if (typeof args.data !== 'string')
    return err(ErrorCode.INVALID_REQUEST, 'data must be a string (use encoding base64 for bytes)');
  const encoding = args.encoding ?? 'utf8';
  if (encoding !== 'utf8' && encoding !== 'base64')
    return err(ErrorCode.INVALID_REQUEST, 'encoding must be utf8 or base64');
  const mode = args.mode ?? 'w';
  if (mode !== 'w' && mode !== 'a') return err(ErrorCode.INVALID_REQUEST, "mode must be 'w' or 'a'");
  const p = resolveVfsPath(args.path);
  if (!p.ok) return err(ErrorCode.VFS_ERROR, p.message);
  if (p.readOnly) return err(ErrorCode.VFS_ERROR, `Read-only mount: ${p.mount}`);
  if (p.isMountRoot || isDirectory(state, p.path)) return err(ErrorCode.VFS_ERROR, `Is a directory: ${p.path}`);
  if (encoding === 'base64' && !BASE64.test(args.data))
    return err(ErrorCode.INVALID_REQUEST, 'data is not valid base64');
  const bytes = encoding === 'base64' ? Buffer.byteLength(args.data, 'base64') : Buffer.byteLength(args.data, 'utf8');
  const existing = state.files.get(p.path)?.content.length ?? 0;
  const newSize = mode === 'a' ? existing + bytes : bytes;
  if (newSize > limits.maxFileBytes) {
    return err(
      ErrorCode.VFS_ERROR,
      `File too large: ${p.path} would be ${newSize} bytes, the limit is ${limits.maxFileBytes}`,
    );
  }
  const total = state.totalBytes - existing + newSize;
  if (total > limits.maxAgentBytes) {
    return err(
      ErrorCode.VFS_ERROR,
      `Quota exceeded: the agent's files would take ${total} bytes, the limit is ${limits.maxAgentBytes}`,
    );
  }
  return { ok: true, returnValue: bytes, effect: { op: 'write', path: p.path, mode, encoding, bytes } };
}

function read(state: VfsState, args: Record<string, unknown>): VfsOutcome {
  if (isMissing(args.path)) return err(ErrorCode.MISSING_ARGUMENT, 'No path specified');
  const encoding = args.encoding ?? 'utf8';
  if (encoding !== 'utf8' && encoding !== 'base64')
    return err(ErrorCode.INVALID_REQUEST, 'encoding must be utf8 or base64');
  const p = resolveVfsPath(args.path);
  if (!p.ok) return err(ErrorCode.VFS_ERROR, p.message);
  const f = state.files.get(p.path);
  if (!f) {
    if (p.isMountRoot || isDirectory(state, p.path)) return err(ErrorCode.VFS_ERROR, `Is a directory: ${p.path}`);
    return err(ErrorCode.VFS_ERROR, `No such file: ${p.path}`);
  }
  return { ok: true, returnValue: f.content.toString(encoding) };
}

function open(state: VfsState, args: Record<string, unknown>, limits: VfsLimits): VfsOutcome {
  if (isMissing(args.path)) return err(ErrorCode.MISSING_ARGUMENT, 'No path specified');
  const mode = args.mode ?? 'r';
  if (mode !== 'r' && mode !== 'w' && mode !== 'a')
    return err(ErrorCode.INVALID_REQUEST, "mode must be 'r', 'w' or 'a'");
  const p = resolveVfsPath(args.path);
  if (!p.ok) return err(ErrorCode.VFS_ERROR, p.message);
  if (p.readOnly && mode !== 'r') return err(ErrorCode.VFS_ERROR, `Read-only mount: ${p.mount}`);
  if (p.isMountRoot || isDirectory(state, p.path)) return err(ErrorCode.VFS_ERROR, `Is a directory: ${p.path}`);
  if (state.fds.size >= limits.maxOpenFds)
    return err(ErrorCode.VFS_ERROR, `Too many open files (limit ${limits.maxOpenFds})`);
  const fd = state.nextFd;
  return { ok: true, returnValue: fd, effect: { op: 'open', path: p.path, mode, fd } };
}

function close(state: VfsState, args: Record<string, unknown>): VfsOutcome {
  if (args.fd === undefined || args.fd === null) return err(ErrorCode.MISSING_ARGUMENT, 'No fd specified');
  if (!Number.isSafeInteger(args.fd) || (args.fd as number) < 1)
    return err(ErrorCode.INVALID_REQUEST, 'fd must be a positive integer');
  const fd = args.fd as number;
  if (!state.fds.has(fd)) return err(ErrorCode.VFS_ERROR, `Bad file descriptor: ${fd}`);
  return { ok: true, returnValue: null, effect: { op: 'close', fd } };
}

function stat(state: VfsState, args: Record<string, unknown>): VfsOutcome {
  if (isMissing(args.path)) return err(ErrorCode.MISSING_ARGUMENT, 'No path specified');
  const p = resolveVfsPath(args.path);
  if (!p.ok) return err(ErrorCode.VFS_ERROR, p.message);
  const f = state.files.get(p.path);
  if (f) {
    return {
      ok: true,
      returnValue: {
        path: p.path,
        type: 'file',
        size: f.content.length,
        contentHash: contentHash(f.content),
        modified: f.modified,
      },
    };
  }
  if (p.isMountRoot || isDirectory(state, p.path)) {
    return { ok: true, returnValue: { path: p.path, type: 'directory', size: 0, contentHash: null, modified: null } };
  }
  return err(ErrorCode.VFS_ERROR, `No such file: ${p.path}`);
}

/** The seed's content_hash: the first 16 hex characters of SHA-256. */
export function contentHash(content: Buffer): string {
  return createHash('sha256').update(content).digest('hex').slice(0, 16);
}

function isDirectory(state: VfsState, path: string): boolean {
  const prefix = `${path}/`;
  for (const p of state.files.keys()) if (p.startsWith(prefix)) return true;
  return false;
}

function isMissing(v: unknown): boolean {
  return v === undefined || v === null || v === '';
}

function err(code: number, message: string): VfsOutcome {
  return { ok: false, code, message };
}
