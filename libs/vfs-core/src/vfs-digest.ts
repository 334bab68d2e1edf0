import canonicalize from 'canonicalize';
import type { VfsStateReply } from '#contracts';
import { contentHash, sha256Hex } from './content-hash.js';
import { fdsInOrder, filesInPathOrder, type VfsState } from './vfs-state.js';

export type VfsListing = Pick<VfsStateReply, 'files' | 'fds' | 'totalBytes'>;

/** Listing for operators and the VFS state subject (short content hashes, as SYS_STAT shows them). */
export function describeVfs(s: VfsState): VfsListing {
  return {
    files: filesInPathOrder(s).map(([path, f]) => ({
      path,
      size: f.content.length,
      contentHash: contentHash(f.content),
      created: f.created,
      modified: f.modified,
    })),
    fds: fdsInOrder(s).map(([fd, d]) => ({ fd, path: d.path, mode: d.mode })),
    totalBytes: s.totalBytes,
  };
}

/**
 * Lower-case hex SHA-256 of a canonical description (RFC 8785 JSON, arrays sorted) of everything
 * that makes up the VFS: full content hashes, timestamps, descriptors and the next descriptor.
 * Two processes that folded the same events, with or without a snapshot, get the same digest.
 * `totalBytes` is left out: it is derived from the files.
 */
export function vfsDigest(s: VfsState): string {
  const doc = {
    files: filesInPathOrder(s).map(([path, f]) => ({
      path,
      size: f.content.length,
      sha256: sha256Hex(f.content),
      created: f.created,
      modified: f.modified,
    })),
    fds: fdsInOrder(s).map(([fd, d]) => ({ fd, path: d.path, mode: d.mode })),
    nextFd: s.nextFd,
  };
  const text = canonicalize(doc);
  if (text === undefined) throw new TypeError('VFS description has no JSON form');
  return sha256Hex(Buffer.from(text, 'utf8'));
}
