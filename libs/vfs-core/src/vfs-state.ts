export interface VfsFile {
  content: Buffer;
  created: string;
  modified: string;
}

export interface VfsDescriptor {
  path: string;
  mode: 'r' | 'w' | 'a';
}

/** One agent's file system: files by full path (directories are implicit), open descriptors. */
export interface VfsState {
  files: Map<string, VfsFile>;
  fds: Map<number, VfsDescriptor>;
  /** Next descriptor number: counts up from 1, never reused. */
  nextFd: number;
  totalBytes: number;
}

export function emptyVfsState(): VfsState {
  return { files: new Map(), fds: new Map(), nextFd: 1, totalBytes: 0 };
}

export function cloneVfsState(s: VfsState): VfsState {
  return {
    // contents are never mutated in place (writes replace the buffer), so sharing them is safe
    files: new Map([...s.files].map(([p, f]) => [p, { ...f }])),
    fds: new Map([...s.fds].map(([fd, d]) => [fd, { ...d }])),
    nextFd: s.nextFd,
    totalBytes: s.totalBytes,
  };
}
