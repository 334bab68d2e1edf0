export type VfsOpenMode = 'r' | 'w' | 'a';

export interface VfsFile {
  /** Never mutated in place: a write replaces the buffer, so clones may share it. */
  content: Buffer;
  /** Decision time of the first write (from the recorded event, never a local clock). */
  created: string;
  /** Decision time of the latest write. */
  modified: string;
}

export interface VfsDescriptor {
  path: string;
  mode: VfsOpenMode;
}

/** One agent's file system: files keyed by full path (directories are implicit), open descriptors. */
export interface VfsState {
  files: Map<string, VfsFile>;
  fds: Map<number, VfsDescriptor>;
  /** Next descriptor number: counts up from 1, never reused, even after a close. */
  nextFd: number;
  /** Sum of all file sizes, kept so the agent quota check does not scan every file. */
  totalBytes: number;
}

export function emptyVfsState(): VfsState {
  return { files: new Map(), fds: new Map(), nextFd: 1, totalBytes: 0 };
}

/** A copy that folding further events into never changes the original. */
export function cloneVfsState(s: VfsState): VfsState {
  return {
    files: new Map([...s.files].map(([p, f]) => [p, { ...f }])),
    fds: new Map([...s.fds].map(([fd, d]) => [fd, { ...d }])),
    nextFd: s.nextFd,
    totalBytes: s.totalBytes,
  };
}

/** Files ordered by path (UTF-16 code units, as canonical JSON orders keys): a stable order for listings. */
export function filesInPathOrder(s: VfsState): [string, VfsFile][] {
  return [...s.files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Open descriptors by number. */
export function fdsInOrder(s: VfsState): [number, VfsDescriptor][] {
  return [...s.fds].sort(([a], [b]) => a - b);
}

/** A directory exists implicitly while some file lies below it. */
export function hasFilesBelow(s: VfsState, path: string): boolean {
  const prefix = `${path}/`;
  for (const p of s.files.keys()) if (p.startsWith(prefix)) return true;
  return false;
}

/** The nearest ancestor of `path` that is a file (then `path` cannot be created), if any. */
export function fileAncestor(s: VfsState, path: string): string | null {
  for (let i = path.indexOf('/', 1); i > 0; i = path.indexOf('/', i + 1)) {
    const prefix = path.slice(0, i);
    if (s.files.has(prefix)) return prefix;
  }
  return null;
}
