import { EventTypes, type VfsSyscallName } from '#contracts';
import { vfsDigest } from './vfs-digest.js';
import { executeVfsSyscall } from './vfs-executor.js';
import { DEFAULT_VFS_LIMITS, type VfsLimits } from './vfs-limits.js';
import { applyVfsEvent } from './vfs-reducer.js';
import { fromVfsSnapshot, toVfsSnapshot } from './vfs-snapshot.js';
import { emptyVfsState, type VfsState } from './vfs-state.js';

const AT = '2026-11-24T10:00:00.000Z';

/** Decide, then fold the recorded effect, as the kernel and the VFS service do together. */
function run(
  state: VfsState,
  syscall: VfsSyscallName,
  args: Record<string, unknown>,
  limits: VfsLimits = DEFAULT_VFS_LIMITS,
  at = AT,
) {
  const o = executeVfsSyscall(state, syscall, args, at, limits);
  const event = {
    type: EventTypes.SyscallRecorded,
    schemaVersion: 1,
    data: {
      args,
      at,
      result: o.ok ? { success: true } : { success: false },
      ...(o.ok && o.effect ? { vfs: o.effect } : {}),
    },
  };
  applyVfsEvent(state, event);
  return o;
}

describe('VFS syscalls', () => {
  let s: VfsState;
  beforeEach(() => {
    s = emptyVfsState();
  });

  it('writes, appends and reads, returning the bytes of each call', () => {
    expect(run(s, 'SYS_WRITE', { path: '/mem/working/a.txt', data: 'héllo' })).toMatchObject({
      ok: true,
      returnValue: 6,
    });
    expect(run(s, 'SYS_WRITE', { path: '/mem/working/a.txt', data: '!', mode: 'a' })).toMatchObject({ returnValue: 1 });
    expect(run(s, 'SYS_READ', { path: '/mem/working/a.txt' })).toEqual({ ok: true, returnValue: 'héllo!' });
    expect(run(s, 'SYS_WRITE', { path: '/mem/working/a.txt', data: 'new' })).toMatchObject({ returnValue: 3 });
    expect(run(s, 'SYS_READ', { path: '/mem/working/a.txt' })).toMatchObject({ returnValue: 'new' });
    expect(s.totalBytes).toBe(3);
  });

  it('keeps binary data exact in base64 and refuses bad base64 (-5)', () => {
    const bytes = Buffer.from([0, 255, 128, 10]);
    expect(run(s, 'SYS_WRITE', { path: '/state/b', data: bytes.toString('base64'), encoding: 'base64' })).toMatchObject(
      { returnValue: 4 },
    );
    expect(run(s, 'SYS_READ', { path: '/state/b', encoding: 'base64' })).toMatchObject({
      returnValue: bytes.toString('base64'),
    });
    expect(run(s, 'SYS_WRITE', { path: '/state/b', data: 'a*b=', encoding: 'base64' })).toMatchObject({
      ok: false,
      code: -5,
    });
    expect(run(s, 'SYS_WRITE', { path: '/state/b', data: 'abc', encoding: 'base64' })).toMatchObject({
      ok: false,
      code: -5,
    });
  });

  it('answers missing arguments 1, wrong types -5, path problems 3', () => {
    expect(run(s, 'SYS_WRITE', { path: '/mem/working/a' })).toMatchObject({ code: 1 });
    expect(run(s, 'SYS_WRITE', { data: 'x' })).toMatchObject({ code: 1 });
    expect(run(s, 'SYS_WRITE', { path: '/mem/working/a', data: 5 })).toMatchObject({ code: -5 });
    expect(run(s, 'SYS_WRITE', { path: '/mem/working/a', data: 'x', mode: 'r' })).toMatchObject({ code: -5 });
    expect(run(s, 'SYS_WRITE', { path: '/mem/working/a', data: 'x', encoding: 'latin1' })).toMatchObject({ code: -5 });
    expect(run(s, 'SYS_WRITE', { path: '/mem/working/../x', data: 'x' })).toMatchObject({ code: 3 });
    expect(run(s, 'SYS_WRITE', { path: '/policy/x', data: 'x' })).toMatchObject({
      code: 3,
      message: 'Read-only mount: /policy',
    });
    expect(run(s, 'SYS_WRITE', { path: '/mem/working', data: 'x' })).toMatchObject({
      code: 3,
      message: /Is a directory/,
    });
    expect(run(s, 'SYS_READ', {})).toMatchObject({ code: 1 });
    expect(run(s, 'SYS_READ', { path: '/mem/working/none' })).toMatchObject({
      code: 3,
      message: 'No such file: /mem/working/none',
    });
    expect(run(s, 'SYS_STAT', { path: '/nowhere' })).toMatchObject({ code: 3 });
  });

  it('opens descriptors counting up from 1, never reusing one, and closes only open ones', () => {
    expect(run(s, 'SYS_OPEN', { path: '/mem/working/a' })).toMatchObject({ returnValue: 1 });
    expect(run(s, 'SYS_OPEN', { path: '/mem/working/b', mode: 'w' })).toMatchObject({ returnValue: 2 });
    expect(run(s, 'SYS_CLOSE', { fd: 1 })).toMatchObject({ ok: true, returnValue: null });
    expect(run(s, 'SYS_OPEN', { path: '/mem/working/c', mode: 'a' })).toMatchObject({ returnValue: 3 });
    expect(run(s, 'SYS_CLOSE', { fd: 1 })).toMatchObject({ code: 3 });
    expect(run(s, 'SYS_CLOSE', {})).toMatchObject({ code: 1 });
    expect(run(s, 'SYS_CLOSE', { fd: 'two' })).toMatchObject({ code: -5 });
    expect(run(s, 'SYS_OPEN', { path: '/mem/working/a', mode: 'rw' })).toMatchObject({ code: -5 });
    expect(run(s, 'SYS_OPEN', { path: '/policy/p', mode: 'w' })).toMatchObject({ code: 3 });
    expect(run(s, 'SYS_OPEN', { path: '/policy/p' })).toMatchObject({ ok: true });
    expect([...s.fds.keys()]).toEqual([2, 3, 4]);
  });

  it('stats files and directories with the seed content hash', () => {
    run(s, 'SYS_WRITE', { path: '/mem/episodic/d/x', data: 'abc' });
    expect(run(s, 'SYS_STAT', { path: '/mem/episodic/d/x' })).toEqual({
      ok: true,
      returnValue: { path: '/mem/episodic/d/x', type: 'file', size: 3, contentHash: 'ba7816bf8f01cfea', modified: AT },
    });
    expect(run(s, 'SYS_STAT', { path: '/mem/episodic/d' })).toMatchObject({
      returnValue: { type: 'directory', size: 0 },
    });
    expect(run(s, 'SYS_STAT', { path: '/ipc' })).toMatchObject({ returnValue: { type: 'directory' } });
  });

  it('enforces the file and agent size limits with clear messages', () => {
    const limits = { maxFileBytes: 10, maxAgentBytes: 15, maxOpenFds: 2 };
    expect(run(s, 'SYS_WRITE', { path: '/mem/working/a', data: 'x'.repeat(11) }, limits)).toMatchObject({
      code: 3,
      message: /File too large.*limit is 10/,
    });
    expect(run(s, 'SYS_WRITE', { path: '/mem/working/a', data: 'x'.repeat(10) }, limits)).toMatchObject({ ok: true });
    expect(run(s, 'SYS_WRITE', { path: '/mem/working/a', data: 'x', mode: 'a' }, limits)).toMatchObject({ code: 3 });
    expect(run(s, 'SYS_WRITE', { path: '/mem/working/b', data: 'x'.repeat(6) }, limits)).toMatchObject({
      code: 3,
      message: /Quota exceeded/,
    });
    expect(run(s, 'SYS_WRITE', { path: '/mem/working/a', data: 'x'.repeat(9) }, limits)).toMatchObject({ ok: true });
    expect(run(s, 'SYS_OPEN', { path: '/mem/working/a' }, limits)).toMatchObject({ ok: true });
    expect(run(s, 'SYS_OPEN', { path: '/mem/working/a' }, limits)).toMatchObject({ ok: true });
    expect(run(s, 'SYS_OPEN', { path: '/mem/working/a' }, limits)).toMatchObject({
      code: 3,
      message: /Too many open files/,
    });
  });

  it('decides without changing the state', () => {
    run(s, 'SYS_WRITE', { path: '/mem/working/a', data: 'x' });
    const before = vfsDigest(s);
    executeVfsSyscall(s, 'SYS_WRITE', { path: '/mem/working/a', data: 'yyy', mode: 'a' }, AT, DEFAULT_VFS_LIMITS);
    executeVfsSyscall(s, 'SYS_OPEN', { path: '/mem/working/a' }, AT, DEFAULT_VFS_LIMITS);
    expect(vfsDigest(s)).toBe(before);
  });

  it('folds only successful recorded effects and survives a snapshot round trip with the same digest', () => {
    run(s, 'SYS_WRITE', { path: '/mem/working/a', data: 'one' }, DEFAULT_VFS_LIMITS, '2026-01-01T00:00:00.000Z');
    run(
      s,
      'SYS_WRITE',
      { path: '/mem/working/a', data: '+two', mode: 'a' },
      DEFAULT_VFS_LIMITS,
      '2026-01-02T00:00:00.000Z',
    );
    run(s, 'SYS_OPEN', { path: '/ipc/q', mode: 'a' });
    run(s, 'SYS_WRITE', { path: '/policy/x', data: 'refused' });
    applyVfsEvent(s, { type: 'SignalDelivered', data: {} });
    const copy = fromVfsSnapshot(JSON.parse(JSON.stringify(toVfsSnapshot(s))));
    expect(vfsDigest(copy)).toBe(vfsDigest(s));
    expect(copy.files.get('/mem/working/a')).toEqual({
      content: Buffer.from('one+two'),
      created: '2026-01-01T00:00:00.000Z',
      modified: '2026-01-02T00:00:00.000Z',
    });
    expect(copy.totalBytes).toBe(7);
    expect(copy.nextFd).toBe(2);
    run(copy, 'SYS_WRITE', { path: '/mem/working/a', data: 'changed' });
    expect(vfsDigest(copy)).not.toBe(vfsDigest(s));
  });
});
