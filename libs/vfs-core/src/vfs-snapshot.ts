import type { VfsOpenMode, VfsState } from './vfs-state.js';
import { fdsInOrder, filesInPathOrder } from './vfs-state.js';

/** A VFS as plain JSON for the snapshots table: contents in base64, maps as arrays sorted by key. */
export interface VfsSnapshotV1 {
  schemaVersion: 1;
  files: [path: string, contentBase64: string, created: string, modified: string][];
  fds: [fd: number, path: string, mode: VfsOpenMode][];
  nextFd: number;
}

export function toVfsSnapshot(s: VfsState): VfsSnapshotV1 {
  return {
    schemaVersion: 1,
    files: filesInPathOrder(s).map(([p, f]) => [p, f.content.toString('base64'), f.created, f.modified]),
    fds: fdsInOrder(s).map(([fd, d]) => [fd, d.path, d.mode]),
    nextFd: s.nextFd,
  };
}

/** The state a snapshot describes; `totalBytes` is derived, so it cannot disagree with the files. */
export function fromVfsSnapshot(j: VfsSnapshotV1): VfsState {
  if (j?.schemaVersion !== 1) throw new Error(`not a VFS snapshot v1 (schemaVersion ${String(j?.schemaVersion)})`);
  const files = new Map(
    j.files.map(([p, c, created, modified]) => [p, { content: Buffer.from(c, 'base64'), created, modified }]),
  );
  let totalBytes = 0;
  for (const f of files.values()) totalBytes += f.content.length;
  return { files, fds: new Map(j.fds.map(([fd, path, mode]) => [fd, { path, mode }])), nextFd: j.nextFd, totalBytes };
}
