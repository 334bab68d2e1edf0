import type { VfsSyscallName } from '#contracts';
import { vfsDigest } from './vfs-digest.js';
import { applyVfsEvent } from './vfs-reducer.js';
import { fromVfsSnapshot, toVfsSnapshot } from './vfs-snapshot.js';
import { emptyVfsState, type VfsState } from './vfs-state.js';
import { VfsHarness } from './vfs-test-support.js';

/** Small deterministic PRNG (mulberry32), so a failure reproduces. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PATHS = [
  '/mem/working/a',
  '/mem/working/a/b',
  '/mem/working/d/x',
  '/mem/episodic/log',
  '/state/s',
  '/ipc/q',
  '/policy/p',
  '/mem/working',
  '/mem/working/../policy/p',
  '/mem/workingX/a',
];
const DATA = ['', 'x', 'héllo', 'line\n', '🙂', 'AAEC', 'QR==', 'aGk='];

function randomCall(rnd: () => number): [VfsSyscallName, Record<string, unknown>] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const path = pick(PATHS);
  switch (pick(['SYS_WRITE', 'SYS_WRITE', 'SYS_WRITE', 'SYS_READ', 'SYS_OPEN', 'SYS_CLOSE', 'SYS_STAT'] as const)) {
    case 'SYS_WRITE':
      return [
        'SYS_WRITE',
        {
          path,
          data: pick(DATA),
          encoding: pick(['utf8', 'base64', undefined]),
          mode: pick(['w', 'a', 'a', undefined]),
        },
      ];
    case 'SYS_READ':
      return ['SYS_READ', { path, encoding: pick(['utf8', 'base64']) }];
    case 'SYS_OPEN':
      return ['SYS_OPEN', { path, mode: pick(['r', 'w', 'a', 'rw']) }];
    case 'SYS_CLOSE':
      return ['SYS_CLOSE', { fd: Math.floor(rnd() * 12) }];
    case 'SYS_STAT':
      return ['SYS_STAT', { path }];
  }
}

function replay(events: VfsHarness['events'], into: VfsState = emptyVfsState()): VfsState {
  for (const e of events) applyVfsEvent(into, e);
  return into;
}

describe('execute, record, fold', () => {
  it.each([1, 2, 3, 42, 2026])('gives the same state live, replayed, and through snapshots (seed %i)', (seed) => {
    const rnd = prng(seed);
    // Tight limits so that limit refusals happen too.
    const vfs = new VfsHarness(emptyVfsState(), { maxFileBytes: 24, maxAgentBytes: 60, maxOpenFds: 4 });
    const snapshots: { at: number; json: string }[] = [];
    let failures = 0;
    for (let i = 0; i < 400; i++) {
      const [syscall, args] = randomCall(rnd);
      const at = new Date(Date.UTC(2026, 10, 24, 10, 0, i)).toISOString();
      if (!vfs.run(syscall, args, at).ok) failures++;
      if (i % 50 === 49) snapshots.push({ at: vfs.events.length, json: JSON.stringify(toVfsSnapshot(vfs.state)) });

      const sizes = [...vfs.state.files.values()].reduce((n, f) => n + f.content.length, 0);
      expect(vfs.state.totalBytes).toBe(sizes);
      expect(vfs.state.totalBytes).toBeLessThanOrEqual(60);
      expect(vfs.state.fds.size).toBeLessThanOrEqual(4);
    }
    expect(failures).toBeGreaterThan(0);
    expect(vfs.state.files.size).toBeGreaterThan(0);

    const live = vfsDigest(vfs.state);
    // A fresh fold of the log.
    const replayed = replay(vfs.events);
    expect(replayed).toEqual(vfs.state);
    expect(vfsDigest(replayed)).toBe(live);
    // A snapshot of the final state.
    expect(vfsDigest(fromVfsSnapshot(JSON.parse(JSON.stringify(toVfsSnapshot(vfs.state)))))).toBe(live);
    // Each intermediate snapshot, then the rest of the log.
    for (const snap of snapshots) {
      const resumed = replay(vfs.events.slice(snap.at), fromVfsSnapshot(JSON.parse(snap.json)));
      expect(resumed).toEqual(vfs.state);
      expect(vfsDigest(resumed)).toBe(live);
    }
  });

  it('replays the recorded effects even when the limits have since been lowered', () => {
    const vfs = new VfsHarness(emptyVfsState());
    vfs.run('SYS_WRITE', { path: '/state/big', data: 'x'.repeat(1000) });
    vfs.run('SYS_OPEN', { path: '/state/big' });
    vfs.run('SYS_OPEN', { path: '/state/big' });
    const tight = new VfsHarness(emptyVfsState(), { maxFileBytes: 10, maxAgentBytes: 10, maxOpenFds: 1 });
    // Folding never consults limits: only deciding does.
    const replayed = replay(vfs.events, tight.state);
    expect(vfsDigest(replayed)).toBe(vfsDigest(vfs.state));
    expect(tight.run('SYS_WRITE', { path: '/state/big', data: 'y', mode: 'a' })).toMatchObject({ ok: false, code: 3 });
  });

  it('hands out unique descriptors across a replay and a snapshot', () => {
    const vfs = new VfsHarness(emptyVfsState());
    for (let i = 0; i < 3; i++) vfs.run('SYS_OPEN', { path: '/ipc/q' });
    for (const fd of [1, 2, 3]) vfs.run('SYS_CLOSE', { fd });
    const restored = new VfsHarness(fromVfsSnapshot(toVfsSnapshot(replay(vfs.events))));
    expect(restored.run('SYS_OPEN', { path: '/ipc/q' })).toMatchObject({ ok: true, returnValue: 4 });
  });
});
