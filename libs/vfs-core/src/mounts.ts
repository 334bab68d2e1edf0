/** One entry of the mount table: a top-level subtree of every agent's file system. */
export interface VfsMount {
  path: string;
  /** Agents may read and stat, never write or open for writing. */
  readOnly: boolean;
}

/** The seed's mount table: every agent gets the same tree; `/policy` is read-only to agents. */
export const MOUNTS: readonly VfsMount[] = [
  { path: '/mem/working', readOnly: false },
  { path: '/mem/episodic', readOnly: false },
  { path: '/mem/semantic', readOnly: false },
  { path: '/mem/procedural', readOnly: false },
  { path: '/state', readOnly: false },
  { path: '/tools', readOnly: false },
  { path: '/policy', readOnly: true },
  { path: '/ipc', readOnly: false },
];
