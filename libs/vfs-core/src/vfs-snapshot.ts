import type { VfsState } from './vfs-state.js';

/** A VFS as plain JSON (contents in base64), for the snapshots table. */
export interface VfsSnapshotV1 {
  schemaVersion: 1;
  files: [path: string, contentBase64: string, created: string, modified: string][];
  fds: [fd: number, path: string, mode: 'r' | 'w' | 'a'][];
  nextFd: number;
}

export function toVfsSnapshot(s: VfsState): VfsSnapshotV1 {
  return {
    schemaVersion: 1,
    files: [...s.files]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([p, f]) => [p, f.content.toString('base64'), f.created, f.modified]),
    fds: [...s.fds].sort(([a], [b]) => a - b).map(([fd, d]) => [fd, d.path, d.mode]),
    nextFd: s.nextFd,
  };
}

export function fromVfsSnapshot(j: VfsSnapshotV1): VfsState {
  const files = new Map(
    j.files.map(([p, c, created, modified]) => [p, { content: Buffer.from(c, 'base64'), created, modified }]),
  );
  let totalBytes = 0;
  for (const f of files.values()) totalBytes += f.content.length;
  return { files, fds: new Map(j.fds.map(([fd, path, mode]) => [fd, { path, mode }])), nextFd: j.nextFd, totalBytes };
}
