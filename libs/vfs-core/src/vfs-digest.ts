import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { contentHash } from './vfs-executor.js';
import type { VfsState } from './vfs-state.js';

/** Listing for operators and the VFS state subject. */
export function describeVfs(s: VfsState): {
  files: { path: string; size: number; contentHash: string; created: string; modified: string }[];
  fds: { fd: number; path: string; mode: string }[];
  totalBytes: number;
} {
  return {
    files: [...s.files]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([path, f]) => ({
        path,
        size: f.content.length,
        contentHash: contentHash(f.content),
        created: f.created,
        modified: f.modified,
      })),
    fds: [...s.fds].sort(([a], [b]) => a - b).map(([fd, d]) => ({ fd, path: d.path, mode: d.mode })),
    totalBytes: s.totalBytes,
  };
}

/** SHA-256 over a canonical description (full content hashes, times, descriptors): equal states, equal digests. */
export function vfsDigest(s: VfsState): string {
  const doc = {
    files: [...s.files]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([path, f]) => [
        path,
        f.content.length,
        createHash('sha256').update(f.content).digest('hex'),
        f.created,
        f.modified,
      ]),
    fds: [...s.fds].sort(([a], [b]) => a - b).map(([fd, d]) => [fd, d.path, d.mode]),
    nextFd: s.nextFd,
  };
  return createHash('sha256')
    .update(canonicalize(doc) as string)
    .digest('hex');
}
