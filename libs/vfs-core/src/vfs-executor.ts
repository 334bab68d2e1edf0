import { ErrorCode, base64Length, type ReturnedContentV2, type VfsEffectV1, type VfsSyscallName } from '#contracts';
import { contentHash, sha256Hex } from './content-hash.js';
import { typeName } from './message-text.js';
import { decodeStrictBase64 } from './strict-base64.js';
import { optionalChoice, requiredFd, requiredPath, requiredString, type ResolvedPath } from './vfs-args.js';
import { VfsFailure } from './vfs-failure.js';
import type { VfsLimits } from './vfs-limits.js';
import { fileAncestor, hasFilesBelow, type VfsOpenMode, type VfsState } from './vfs-state.js';

export type VfsOutcome =
  | { ok: true; returnValue: unknown; effect?: VfsEffectV1; returned?: ReturnedContentV2 }
  | { ok: false; code: number; message: string };

/** What SYS_STAT returns. */
export type VfsStat =
  | { path: string; type: 'file'; size: number; contentHash: string; modified: string }
  | { path: string; type: 'directory'; size: 0; contentHash: null; modified: null };

const ENCODINGS = ['utf8', 'base64'] as const;
const WRITE_MODES = ['w', 'a'] as const;
const OPEN_MODES = ['r', 'w', 'a'] as const;

/**
 * Decides a file syscall on an agent's VFS: the reply, and the effect to record when it succeeds.
 * Pure: the state changes only when the recorded effect is folded (applyVfsEvent), so a decision
 * that is never committed changes nothing. `at` is the decision time; file timestamps are taken
 * from the recorded event when it is folded, so no decision here depends on a clock.
 */
export function executeVfsSyscall(
  state: VfsState,
  syscall: VfsSyscallName,
  args: Record<string, unknown>,
  at: string,
  limits: VfsLimits,
): VfsOutcome {
  try {
    if (typeof args !== 'object' || args === null || Array.isArray(args)) {
      throw new VfsFailure(ErrorCode.INVALID_REQUEST, `Invalid arguments: must be an object, got ${typeName(args)}`);
    }
    switch (syscall) {
      case 'SYS_WRITE':
        return write(state, args, limits);
      case 'SYS_READ':
        return read(state, args, limits);
      case 'SYS_OPEN':
        return open(state, args, limits);
      case 'SYS_CLOSE':
        return close(state, args);
      case 'SYS_STAT':
        return stat(state, args);
      default:
        throw new VfsFailure(ErrorCode.NO_HANDLER, `No VFS handler for ${String(syscall)}`);
    }
  } catch (e) {
    // Only refusals become replies; a bug must surface as one (the kernel answers -4).
    if (e instanceof VfsFailure) return { ok: false, code: e.code, message: e.message };
    throw e;
  }
}

function write(state: VfsState, args: Record<string, unknown>, limits: VfsLimits): VfsOutcome {
  const path = requiredPath(args);
  const data = requiredString(args, 'data');
  const encoding = optionalChoice(args, 'encoding', ENCODINGS, 'utf8');
  const mode = optionalChoice(args, 'mode', WRITE_MODES, 'w');
  let bytes: number;
  if (encoding === 'base64') {
    const decoded = decodeStrictBase64(data);
    if (!decoded.ok)
      throw new VfsFailure(ErrorCode.INVALID_REQUEST, `Invalid argument: data is not base64: ${decoded.message}`);
    bytes = decoded.bytes.length;
  } else {
    // Counted as the reducer will encode it (an unpaired surrogate becomes U+FFFD, 3 bytes).
    bytes = Buffer.byteLength(data, 'utf8');
  }
  assertWritable(path, 'write to');
  assertCreatable(state, path);
  const existing = state.files.get(path.path)?.content.length ?? 0;
  const fileSize = mode === 'a' ? existing + bytes : bytes;
  if (fileSize > limits.maxFileBytes) {
    throw new VfsFailure(
      ErrorCode.VFS_ERROR,
      `File size limit exceeded: ${path.path} would be ${fileSize} bytes, maxFileBytes is ${limits.maxFileBytes}`,
    );
  }
  const agentTotal = state.totalBytes - existing + fileSize;
  if (agentTotal > limits.maxAgentBytes) {
    throw new VfsFailure(
      ErrorCode.VFS_ERROR,
      `Agent storage limit exceeded: all files would take ${agentTotal} bytes, maxAgentBytes is ${limits.maxAgentBytes}`,
    );
  }
  return { ok: true, returnValue: bytes, effect: { op: 'write', path: path.path, mode, encoding, bytes } };
}

/**
 * The content, and its digest for the record (the log keeps what was read, not the bytes: they
 * follow from the fold). A file whose reply would not fit one message is refused with 3.
 */
function read(state: VfsState, args: Record<string, unknown>, limits: VfsLimits): VfsOutcome {
  const path = requiredPath(args);
  const encoding = optionalChoice(args, 'encoding', ENCODINGS, 'utf8');
  const file = state.files.get(path.path);
  if (file) {
    const text = file.content.toString(encoding);
    const max = limits.maxReadReplyBytes ?? Infinity;
    const size = file.content.length;
    // JSON escaping can grow utf8 text up to 6x; only a file near the limit needs measuring
    const replyBytes =
      encoding === 'base64' ? base64Length(size) : size * 6 <= max ? 0 : Buffer.byteLength(JSON.stringify(text));
    if (replyBytes > max) {
      throw new VfsFailure(
        ErrorCode.VFS_ERROR,
        `File too large to return in one reply: ${path.path} takes ${replyBytes} bytes as ${encoding}, the limit is ${max}` +
          (encoding === 'utf8' ? '; read it with encoding base64' : ''),
      );
    }
    return {
      ok: true,
      returnValue: text,
      returned: { kind: 'content', bytes: size, sha256: sha256Hex(file.content), encoding },
    };
  }
  if (isDirectory(state, path)) throw new VfsFailure(ErrorCode.VFS_ERROR, `Is a directory: ${path.path}`);
  throw new VfsFailure(ErrorCode.VFS_ERROR, `No such file: ${path.path}`);
}

function open(state: VfsState, args: Record<string, unknown>, limits: VfsLimits): VfsOutcome {
  const path = requiredPath(args);
  const mode: VfsOpenMode = optionalChoice(args, 'mode', OPEN_MODES, 'r');
  if (mode !== 'r') assertWritable(path, 'open for writing');
  // Like the seed, the file need not exist; but it must be able to exist.
  assertCreatable(state, path);
  if (state.fds.size >= limits.maxOpenFds) {
    throw new VfsFailure(
      ErrorCode.VFS_ERROR,
      `Too many open files: ${state.fds.size} descriptors are open, maxOpenFds is ${limits.maxOpenFds}`,
    );
  }
  const fd = state.nextFd;
  return { ok: true, returnValue: fd, effect: { op: 'open', path: path.path, mode, fd } };
}

function close(state: VfsState, args: Record<string, unknown>): VfsOutcome {
  const fd = requiredFd(args);
  // The seed closed unknown descriptors silently; a bad descriptor is an agent bug worth reporting.
  if (!state.fds.has(fd)) throw new VfsFailure(ErrorCode.VFS_ERROR, `Bad file descriptor: ${fd} is not open`);
  return { ok: true, returnValue: null, effect: { op: 'close', fd } };
}

function stat(state: VfsState, args: Record<string, unknown>): VfsOutcome {
  const path = requiredPath(args);
  const file = state.files.get(path.path);
  let result: VfsStat;
  if (file) {
    result = {
      path: path.path,
      type: 'file',
      size: file.content.length,
      contentHash: contentHash(file.content),
      modified: file.modified,
    };
  } else if (isDirectory(state, path)) {
    result = { path: path.path, type: 'directory', size: 0, contentHash: null, modified: null };
  } else {
    throw new VfsFailure(ErrorCode.VFS_ERROR, `No such file or directory: ${path.path}`);
  }
  return { ok: true, returnValue: result };
}

function isDirectory(state: VfsState, path: ResolvedPath): boolean {
  return path.isMountRoot || hasFilesBelow(state, path.path);
}

function assertWritable(path: ResolvedPath, what: string): void {
  if (path.readOnly) {
    throw new VfsFailure(
      ErrorCode.VFS_ERROR,
      `Read-only mount: cannot ${what} ${path.path} (${path.mount} is read-only)`,
    );
  }
}

/** A file can live at `path` only if it is not a directory and no ancestor is a file. */
function assertCreatable(state: VfsState, path: ResolvedPath): void {
  if (!state.files.has(path.path) && isDirectory(state, path)) {
    throw new VfsFailure(ErrorCode.VFS_ERROR, `Is a directory: ${path.path}`);
  }
  const ancestor = fileAncestor(state, path.path);
  if (ancestor) throw new VfsFailure(ErrorCode.VFS_ERROR, `Not a directory: ${ancestor} is a file`);
}
