/** The seed's mount table: every agent gets the same tree; `/policy` is read-only to agents. */
export const MOUNTS: readonly { path: string; readOnly: boolean }[] = [
  { path: '/mem/working', readOnly: false },
  { path: '/mem/episodic', readOnly: false },
  { path: '/mem/semantic', readOnly: false },
  { path: '/mem/procedural', readOnly: false },
  { path: '/state', readOnly: false },
  { path: '/tools', readOnly: false },
  { path: '/policy', readOnly: true },
  { path: '/ipc', readOnly: false },
];
