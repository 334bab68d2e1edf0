import { createHash } from 'node:crypto';
import { describeVfs, vfsDigest } from './vfs-digest.js';
import { applyVfsEffect } from './vfs-reducer.js';
import { cloneVfsState, emptyVfsState, type VfsState } from './vfs-state.js';

const T0 = '2026-11-24T10:00:00.000Z';
const T1 = '2026-11-24T11:00:00.000Z';

function write(s: VfsState, path: string, data: string, at = T0, mode: 'w' | 'a' = 'w'): void {
  applyVfsEffect(s, { op: 'write', path, mode, encoding: 'utf8', bytes: Buffer.byteLength(data) }, { data }, at);
}

describe('vfsDigest', () => {
  it('is lower-case hex SHA-256', () => {
    expect(vfsDigest(emptyVfsState())).toMatch(/^[0-9a-f]{64}$/);
  });

  it('does not depend on insertion order or on how the content got there', () => {
    const a = emptyVfsState();
    write(a, '/state/x', 'one');
    write(a, '/state/y', 'two');
    applyVfsEffect(a, { op: 'open', path: '/state/x', mode: 'r', fd: 1 }, {}, T0);
    applyVfsEffect(a, { op: 'open', path: '/state/y', mode: 'r', fd: 2 }, {}, T0);
    const b = emptyVfsState();
    applyVfsEffect(b, { op: 'open', path: '/state/y', mode: 'r', fd: 2 }, {}, T0);
    applyVfsEffect(b, { op: 'open', path: '/state/x', mode: 'r', fd: 1 }, {}, T0);
    write(b, '/state/y', 'tw');
    write(b, '/state/y', 'o', T0, 'a');
    write(b, '/state/x', 'one');
    expect(vfsDigest(b)).toBe(vfsDigest(a));
  });

  it('changes with every part of the state', () => {
    const base = emptyVfsState();
    write(base, '/state/x', 'one');
    applyVfsEffect(base, { op: 'open', path: '/state/x', mode: 'r', fd: 1 }, {}, T0);
    const d = vfsDigest(base);
    const variants: ((s: VfsState) => void)[] = [
      (s) => write(s, '/state/x', 'One'), // content, same size
      (s) => write(s, '/state/x', 'one', T1), // modified
      (s) => (s.files.get('/state/x')!.created = T1),
      (s) => write(s, '/state/x2', ''), // an empty file
      (s) => s.fds.set(1, { path: '/state/x', mode: 'a' }),
      (s) => s.fds.set(1, { path: '/state/y', mode: 'r' }),
      (s) => applyVfsEffect(s, { op: 'close', fd: 1 }, {}, T0),
      (s) => (s.nextFd = 9),
    ];
    const digests = variants.map((change) => {
      const s = cloneVfsState(base);
      change(s);
      return vfsDigest(s);
    });
    expect(new Set([d, ...digests]).size).toBe(variants.length + 1);
    expect(vfsDigest(base)).toBe(d);
  });
});

describe('describeVfs', () => {
  it('lists files by path with short content hashes, descriptors by number, and the total', () => {
    const s = emptyVfsState();
    write(s, '/state/b', 'abc', T1);
    write(s, '/ipc/a', 'hello');
    applyVfsEffect(s, { op: 'open', path: '/state/b', mode: 'w', fd: 5 }, {}, T0);
    applyVfsEffect(s, { op: 'open', path: '/ipc/a', mode: 'r', fd: 2 }, {}, T0);
    const short = (x: string) => createHash('sha256').update(x).digest('hex').slice(0, 16);
    expect(describeVfs(s)).toEqual({
      files: [
        { path: '/ipc/a', size: 5, contentHash: short('hello'), created: T0, modified: T0 },
        { path: '/state/b', size: 3, contentHash: 'ba7816bf8f01cfea', created: T1, modified: T1 },
      ],
      fds: [
        { fd: 2, path: '/ipc/a', mode: 'r' },
        { fd: 5, path: '/state/b', mode: 'w' },
      ],
      totalBytes: 8,
    });
    expect(JSON.parse(JSON.stringify(describeVfs(s)))).toEqual(describeVfs(s));
  });
});

describe('cloneVfsState', () => {
  it('gives a copy that later folds do not share', () => {
    const s = emptyVfsState();
    write(s, '/state/a', 'x');
    const c = cloneVfsState(s);
    write(c, '/state/a', 'y', T1, 'a');
    applyVfsEffect(c, { op: 'open', path: '/state/a', mode: 'r', fd: 1 }, {}, T0);
    expect(s.files.get('/state/a')).toEqual({ content: Buffer.from('x'), created: T0, modified: T0 });
    expect(s.fds.size).toBe(0);
    expect(s.nextFd).toBe(1);
    expect(s.totalBytes).toBe(1);
  });
});
