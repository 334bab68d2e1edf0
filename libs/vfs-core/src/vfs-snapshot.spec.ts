import { vfsDigest } from './vfs-digest.js';
import { fromVfsSnapshot, toVfsSnapshot, type VfsSnapshotV1 } from './vfs-snapshot.js';
import { emptyVfsState } from './vfs-state.js';
import { T0, VfsHarness } from './vfs-test-support.js';

const T1 = '2026-11-24T11:00:00.000Z';

function populated(): VfsHarness {
  const vfs = new VfsHarness(emptyVfsState());
  vfs.run('SYS_WRITE', { path: '/state/z', data: 'last' }, T0);
  vfs.run(
    'SYS_WRITE',
    { path: '/mem/working/bin', data: Buffer.from([0, 1, 254, 255]).toString('base64'), encoding: 'base64' },
    T0,
  );
  vfs.run('SYS_WRITE', { path: '/mem/working/bin', data: 'AA==', encoding: 'base64', mode: 'a' }, T1);
  vfs.run('SYS_WRITE', { path: '/ipc/empty', data: '' }, T1);
  vfs.run('SYS_OPEN', { path: '/state/z', mode: 'a' });
  vfs.run('SYS_OPEN', { path: '/policy/p' });
  vfs.run('SYS_OPEN', { path: '/ipc/q', mode: 'w' });
  vfs.run('SYS_CLOSE', { fd: 1 });
  return vfs;
}

describe('VFS snapshots', () => {
  it('are plain JSON with sorted arrays and base64 contents', () => {
    expect(toVfsSnapshot(populated().state)).toEqual({
      schemaVersion: 1,
      files: [
        ['/ipc/empty', '', T1, T1],
        ['/mem/working/bin', 'AAH+/wA=', T0, T1],
        ['/state/z', 'bGFzdA==', T0, T0],
      ],
      fds: [
        [2, '/policy/p', 'r'],
        [3, '/ipc/q', 'w'],
      ],
      nextFd: 4,
    });
  });

  it('round-trip exactly through JSON text, including nextFd after closes and totalBytes', () => {
    const { state } = populated();
    const copy = fromVfsSnapshot(JSON.parse(JSON.stringify(toVfsSnapshot(state))) as VfsSnapshotV1);
    expect(copy).toEqual(state);
    expect(copy.totalBytes).toBe(state.totalBytes);
    expect(copy.nextFd).toBe(4);
    expect(vfsDigest(copy)).toBe(vfsDigest(state));
    expect(toVfsSnapshot(copy)).toEqual(toVfsSnapshot(state));
  });

  it('round-trip the empty state', () => {
    expect(fromVfsSnapshot(toVfsSnapshot(emptyVfsState()))).toEqual(emptyVfsState());
  });

  it('refuse a snapshot of another schema version', () => {
    const s = { ...toVfsSnapshot(emptyVfsState()), schemaVersion: 2 } as unknown as VfsSnapshotV1;
    expect(() => fromVfsSnapshot(s)).toThrow(/schemaVersion 2/);
  });
});
