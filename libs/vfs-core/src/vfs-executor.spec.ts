import { createHash } from 'node:crypto';
import { ErrorCode } from '#contracts';
import { cloneVfsState, emptyVfsState } from './vfs-state.js';
import { vfsDigest } from './vfs-digest.js';
import { executeVfsSyscall } from './vfs-executor.js';
import { DEFAULT_VFS_LIMITS } from './vfs-limits.js';
import { toVfsSnapshot } from './vfs-snapshot.js';
import { T0, VfsHarness } from './vfs-test-support.js';

const { MISSING_ARGUMENT, INVALID_REQUEST, VFS_ERROR, NO_HANDLER } = ErrorCode;
const T1 = '2026-11-24T11:00:00.000Z';

let vfs: VfsHarness;
beforeEach(() => {
  vfs = new VfsHarness(emptyVfsState());
});

describe('SYS_WRITE and SYS_READ', () => {
  it('writes, appends and reads back, returning the bytes of each call', () => {
    expect(vfs.run('SYS_WRITE', { path: '/mem/working/a.txt', data: 'héllo' })).toEqual({
      ok: true,
      returnValue: 6,
      effect: { op: 'write', path: '/mem/working/a.txt', mode: 'w', encoding: 'utf8', bytes: 6 },
    });
    expect(vfs.run('SYS_WRITE', { path: '/mem/working/a.txt', data: ' world', mode: 'a' })).toMatchObject({
      returnValue: 6,
      effect: { mode: 'a' },
    });
    expect(vfs.run('SYS_READ', { path: '/mem/working/a.txt' })).toEqual({
      ok: true,
      returnValue: 'héllo world',
      returned: {
        kind: 'content',
        bytes: 12,
        sha256: createHash('sha256').update('héllo world').digest('hex'),
        encoding: 'utf8',
      },
    });
    expect(vfs.state.totalBytes).toBe(12);
  });

  it('replaces the content in mode w and keeps the creation time', () => {
    vfs.run('SYS_WRITE', { path: '/state/s', data: 'long content' }, T0);
    expect(vfs.run('SYS_WRITE', { path: '/state/s', data: 'new' }, T1)).toMatchObject({ returnValue: 3 });
    expect(vfs.run('SYS_READ', { path: '/state/s' })).toMatchObject({ returnValue: 'new' });
    expect(vfs.state.files.get('/state/s')).toMatchObject({ created: T0, modified: T1 });
    expect(vfs.state.totalBytes).toBe(3);
  });

  it('appends to a file that does not exist yet by creating it', () => {
    expect(vfs.run('SYS_WRITE', { path: '/ipc/log', data: 'x', mode: 'a' })).toMatchObject({ returnValue: 1 });
    expect(vfs.run('SYS_READ', { path: '/ipc/log' })).toMatchObject({ returnValue: 'x' });
  });

  it('writes an empty file and creates parent directories implicitly', () => {
    expect(vfs.run('SYS_WRITE', { path: '/mem/semantic/a/b/c', data: '' })).toMatchObject({ ok: true, returnValue: 0 });
    expect(vfs.run('SYS_READ', { path: '/mem/semantic/a/b/c' })).toMatchObject({
      ok: true,
      returnValue: '',
      returned: { bytes: 0 },
    });
    expect(vfs.run('SYS_STAT', { path: '/mem/semantic/a/b' })).toMatchObject({ returnValue: { type: 'directory' } });
  });

  it('keeps binary data exact through base64 in both directions', () => {
    const bytes = Buffer.from([0, 255, 128, 10, 0xc3]);
    const data = bytes.toString('base64');
    expect(vfs.run('SYS_WRITE', { path: '/state/bin', data, encoding: 'base64' })).toMatchObject({
      returnValue: 5,
      effect: { encoding: 'base64', bytes: 5 },
    });
    expect(vfs.run('SYS_READ', { path: '/state/bin', encoding: 'base64' })).toMatchObject({
      ok: true,
      returnValue: data,
      returned: { encoding: 'base64', bytes: Buffer.from(data, 'base64').length },
    });
    expect(vfs.state.files.get('/state/bin')!.content.equals(bytes)).toBe(true);
    expect(vfs.run('SYS_WRITE', { path: '/state/bin', data: 'AQI=', encoding: 'base64', mode: 'a' })).toMatchObject({
      returnValue: 2,
    });
    expect(vfs.run('SYS_READ', { path: '/state/bin', encoding: 'base64' })).toMatchObject({
      returnValue: Buffer.concat([bytes, Buffer.from([1, 2])]).toString('base64'),
    });
  });

  it('reads utf8 text back as base64 and base64 text back as utf8', () => {
    vfs.run('SYS_WRITE', { path: '/state/t', data: 'hi' });
    expect(vfs.run('SYS_READ', { path: '/state/t', encoding: 'base64' })).toMatchObject({ returnValue: 'aGk=' });
    vfs.run('SYS_WRITE', { path: '/state/u', data: 'aGk=', encoding: 'base64' });
    expect(vfs.run('SYS_READ', { path: '/state/u', encoding: 'utf8' })).toMatchObject({ returnValue: 'hi' });
  });

  it('refuses base64 that is not canonical (-5) and records nothing', () => {
    for (const data of ['a*b=', 'abc', 'QR==', 'aGk', 'aG k=', 'a-_=']) {
      expect(vfs.run('SYS_WRITE', { path: '/state/b', data, encoding: 'base64' })).toMatchObject({
        ok: false,
        code: INVALID_REQUEST,
        message: /data is not base64/,
      });
    }
    expect(vfs.state.files.size).toBe(0);
  });

  it('answers 1 for a missing path or data', () => {
    for (const args of [{ data: 'x' }, { path: '', data: 'x' }, { path: null, data: 'x' }]) {
      expect(vfs.run('SYS_WRITE', args)).toEqual({
        ok: false,
        code: MISSING_ARGUMENT,
        message: 'Missing argument: path',
      });
    }
    for (const args of [{ path: '/mem/working/a' }, { path: '/mem/working/a', data: null }]) {
      expect(vfs.run('SYS_WRITE', args)).toEqual({
        ok: false,
        code: MISSING_ARGUMENT,
        message: 'Missing argument: data',
      });
    }
    expect(vfs.run('SYS_READ', {})).toMatchObject({ code: MISSING_ARGUMENT, message: 'Missing argument: path' });
  });

  it.each([
    [{ path: 42, data: 'x' }, /path must be a string, got number/],
    [{ path: ['/mem/working/a'], data: 'x' }, /path must be a string, got an array/],
    [{ path: '/mem/working/a', data: 5 }, /data must be a string, got number/],
    [{ path: '/mem/working/a', data: { text: 'x' } }, /data must be a string, got object/],
    [{ path: '/mem/working/a', data: 'x', encoding: 'latin1' }, /encoding must be one of 'utf8', 'base64'/],
    [{ path: '/mem/working/a', data: 'x', encoding: 'UTF8' }, /encoding/],
    [{ path: '/mem/working/a', data: 'x', mode: 'r' }, /mode must be one of 'w', 'a', got 'r'/],
    [{ path: '/mem/working/a', data: 'x', mode: 'w+' }, /mode/],
    [{ path: '/mem/working/a', data: 'x', mode: 1 }, /mode .* got number/],
  ])('answers -5 for the bad argument in SYS_WRITE %j', (args, message) => {
    expect(vfs.run('SYS_WRITE', args)).toMatchObject({ ok: false, code: INVALID_REQUEST, message });
  });

  it('answers -5 for a bad encoding or path type in SYS_READ', () => {
    vfs.run('SYS_WRITE', { path: '/state/a', data: 'x' });
    expect(vfs.run('SYS_READ', { path: '/state/a', encoding: 'hex' })).toMatchObject({ code: INVALID_REQUEST });
    expect(vfs.run('SYS_READ', { path: true })).toMatchObject({ code: INVALID_REQUEST });
  });

  it.each([
    ['/mem/working/../../policy/x', /'\.' and '\.\.' segments/],
    ['/mem/workingX', /outside every mount/],
    ['/mem/working//a', /empty segment/],
    ['/mem/working/a/', /must not end/],
    ['/mem/working/a\u0007', /control character/],
    ['relative/a', /must be absolute/],
  ])('answers 3 for the unconfined path %j', (path, message) => {
    expect(vfs.run('SYS_WRITE', { path, data: 'x' })).toMatchObject({ ok: false, code: VFS_ERROR, message });
    expect(vfs.run('SYS_READ', { path })).toMatchObject({ ok: false, code: VFS_ERROR, message });
    expect(vfs.run('SYS_OPEN', { path })).toMatchObject({ ok: false, code: VFS_ERROR, message });
    expect(vfs.run('SYS_STAT', { path })).toMatchObject({ ok: false, code: VFS_ERROR, message });
    expect(vfs.state.files.size).toBe(0);
  });

  it('refuses writes to /policy (3) but lets agents read, open r and stat there', () => {
    expect(vfs.run('SYS_WRITE', { path: '/policy/x', data: 'x' })).toEqual({
      ok: false,
      code: VFS_ERROR,
      message: 'Read-only mount: cannot write to /policy/x (/policy is read-only)',
    });
    expect(vfs.run('SYS_WRITE', { path: '/policy/x', data: 'x', mode: 'a' })).toMatchObject({ code: VFS_ERROR });
    expect(vfs.run('SYS_READ', { path: '/policy/x' })).toMatchObject({
      code: VFS_ERROR,
      message: 'No such file: /policy/x',
    });
    expect(vfs.run('SYS_STAT', { path: '/policy' })).toMatchObject({ ok: true, returnValue: { type: 'directory' } });
  });

  it('refuses writing to or reading a directory (3)', () => {
    expect(vfs.run('SYS_WRITE', { path: '/mem/working', data: 'x' })).toEqual({
      ok: false,
      code: VFS_ERROR,
      message: 'Is a directory: /mem/working',
    });
    vfs.run('SYS_WRITE', { path: '/mem/working/d/f', data: 'x' });
    expect(vfs.run('SYS_WRITE', { path: '/mem/working/d', data: 'x' })).toMatchObject({
      code: VFS_ERROR,
      message: 'Is a directory: /mem/working/d',
    });
    expect(vfs.run('SYS_READ', { path: '/mem/working/d' })).toMatchObject({
      code: VFS_ERROR,
      message: /Is a directory/,
    });
    expect(vfs.run('SYS_READ', { path: '/tools' })).toMatchObject({ code: VFS_ERROR, message: /Is a directory/ });
  });

  it('refuses a file below another file (3), so no path is both a file and a directory', () => {
    vfs.run('SYS_WRITE', { path: '/mem/working/f', data: 'x' });
    expect(vfs.run('SYS_WRITE', { path: '/mem/working/f/g', data: 'y' })).toEqual({
      ok: false,
      code: VFS_ERROR,
      message: 'Not a directory: /mem/working/f is a file',
    });
    expect(vfs.run('SYS_OPEN', { path: '/mem/working/f/g/h' })).toMatchObject({
      code: VFS_ERROR,
      message: /Not a dir/,
    });
    expect(vfs.run('SYS_READ', { path: '/mem/working/f/g' })).toMatchObject({
      code: VFS_ERROR,
      message: /No such file/,
    });
  });

  it('says which file does not exist (3)', () => {
    expect(vfs.run('SYS_READ', { path: '/mem/working/none' })).toEqual({
      ok: false,
      code: VFS_ERROR,
      message: 'No such file: /mem/working/none',
    });
  });
});

describe('size limits', () => {
  const limits = { maxFileBytes: 10, maxAgentBytes: 15, maxOpenFds: 2 };
  beforeEach(() => {
    vfs = new VfsHarness(emptyVfsState(), limits);
  });

  it('allows a file of exactly maxFileBytes and refuses one byte more (3), naming the limit', () => {
    expect(vfs.run('SYS_WRITE', { path: '/mem/working/a', data: 'x'.repeat(11) })).toEqual({
      ok: false,
      code: VFS_ERROR,
      message: 'File size limit exceeded: /mem/working/a would be 11 bytes, maxFileBytes is 10',
    });
    expect(vfs.run('SYS_WRITE', { path: '/mem/working/a', data: 'x'.repeat(10) })).toMatchObject({ ok: true });
    expect(vfs.run('SYS_WRITE', { path: '/mem/working/a', data: 'x', mode: 'a' })).toMatchObject({
      code: VFS_ERROR,
      message: /maxFileBytes/,
    });
  });

  it('counts bytes, not characters, and base64 by its decoded size', () => {
    expect(vfs.run('SYS_WRITE', { path: '/mem/working/a', data: 'é'.repeat(6) })).toMatchObject({
      code: VFS_ERROR,
      message: /would be 12 bytes/,
    });
    // 16 base64 characters, 10 bytes (reading 'AAAAAAAAAAAAAA==' as 16 bytes would refuse it).
    const b64 = Buffer.alloc(10).toString('base64');
    expect(b64).toHaveLength(16);
    expect(vfs.run('SYS_WRITE', { path: '/mem/working/b', data: b64, encoding: 'base64' })).toMatchObject({
      ok: true,
      returnValue: 10,
    });
  });

  it("counts the agent's total after the write: replacing a file frees its old size", () => {
    vfs.run('SYS_WRITE', { path: '/mem/working/a', data: 'x'.repeat(10) });
    expect(vfs.run('SYS_WRITE', { path: '/mem/working/b', data: 'x'.repeat(6) })).toEqual({
      ok: false,
      code: VFS_ERROR,
      message: 'Agent storage limit exceeded: all files would take 16 bytes, maxAgentBytes is 15',
    });
    expect(vfs.run('SYS_WRITE', { path: '/mem/working/b', data: 'x'.repeat(5) })).toMatchObject({ ok: true });
    expect(vfs.run('SYS_WRITE', { path: '/mem/working/a', data: 'x'.repeat(9) })).toMatchObject({ ok: true });
    expect(vfs.run('SYS_WRITE', { path: '/mem/working/c', data: 'x' })).toMatchObject({ ok: true });
    expect(vfs.state.totalBytes).toBe(15);
    expect(vfs.run('SYS_WRITE', { path: '/mem/working/b', data: 'x', mode: 'a' })).toMatchObject({ code: VFS_ERROR });
  });

  it('limits open descriptors (3) and frees a slot on close', () => {
    expect(vfs.run('SYS_OPEN', { path: '/mem/working/a' })).toMatchObject({ returnValue: 1 });
    expect(vfs.run('SYS_OPEN', { path: '/mem/working/a' })).toMatchObject({ returnValue: 2 });
    expect(vfs.run('SYS_OPEN', { path: '/mem/working/a' })).toEqual({
      ok: false,
      code: VFS_ERROR,
      message: 'Too many open files: 2 descriptors are open, maxOpenFds is 2',
    });
    vfs.run('SYS_CLOSE', { fd: 1 });
    expect(vfs.run('SYS_OPEN', { path: '/mem/working/a' })).toMatchObject({ ok: true, returnValue: 3 });
  });

  it('has the documented defaults', () => {
    expect(DEFAULT_VFS_LIMITS).toEqual({ maxFileBytes: 524288, maxAgentBytes: 16777216, maxOpenFds: 1024 });
  });
});

describe('SYS_OPEN and SYS_CLOSE', () => {
  it('opens descriptors counting up from 1 and never reuses a closed one', () => {
    expect(vfs.run('SYS_OPEN', { path: '/mem/working/a' })).toEqual({
      ok: true,
      returnValue: 1,
      effect: { op: 'open', path: '/mem/working/a', mode: 'r', fd: 1 },
    });
    expect(vfs.run('SYS_OPEN', { path: '/mem/working/b', mode: 'w' })).toMatchObject({ returnValue: 2 });
    expect(vfs.run('SYS_CLOSE', { fd: 2 })).toEqual({ ok: true, returnValue: null, effect: { op: 'close', fd: 2 } });
    expect(vfs.run('SYS_OPEN', { path: '/mem/working/c', mode: 'a' })).toMatchObject({ returnValue: 3 });
    expect([...vfs.state.fds]).toEqual([
      [1, { path: '/mem/working/a', mode: 'r' }],
      [3, { path: '/mem/working/c', mode: 'a' }],
    ]);
    expect(vfs.state.nextFd).toBe(4);
  });

  it('opens files that do not exist yet, and does not create them', () => {
    expect(vfs.run('SYS_OPEN', { path: '/ipc/later', mode: 'w' })).toMatchObject({ ok: true });
    expect(vfs.state.files.size).toBe(0);
  });

  it.each(['rw', 'r+', 'w+', 'rb', 'x', 'R', ''])('answers -5 for the open mode %j', (mode) => {
    expect(vfs.run('SYS_OPEN', { path: '/mem/working/a', mode })).toMatchObject({
      ok: false,
      code: INVALID_REQUEST,
      message: /mode must be one of 'r', 'w', 'a'/,
    });
  });

  it('refuses opening /policy for writing (3) but not for reading', () => {
    for (const mode of ['w', 'a']) {
      expect(vfs.run('SYS_OPEN', { path: '/policy/p', mode })).toMatchObject({
        code: VFS_ERROR,
        message: /Read-only mount: cannot open for writing \/policy\/p/,
      });
    }
    expect(vfs.run('SYS_OPEN', { path: '/policy/p', mode: 'r' })).toMatchObject({ ok: true, returnValue: 1 });
  });

  it('refuses opening a directory (3)', () => {
    expect(vfs.run('SYS_OPEN', { path: '/state' })).toMatchObject({
      code: VFS_ERROR,
      message: 'Is a directory: /state',
    });
  });

  it('answers 1 for a missing path or fd', () => {
    expect(vfs.run('SYS_OPEN', { mode: 'r' })).toMatchObject({ code: MISSING_ARGUMENT });
    expect(vfs.run('SYS_CLOSE', {})).toEqual({ ok: false, code: MISSING_ARGUMENT, message: 'Missing argument: fd' });
    expect(vfs.run('SYS_CLOSE', { fd: null })).toMatchObject({ code: MISSING_ARGUMENT });
  });

  it.each(['1', 0, -1, 1.5, Number.NaN, 2 ** 53, true, [1]])('answers -5 for the fd %j', (fd) => {
    expect(vfs.run('SYS_CLOSE', { fd })).toMatchObject({
      ok: false,
      code: INVALID_REQUEST,
      message: /fd must be a positive integer/,
    });
  });

  it('answers 3 for closing a descriptor that is not open, including a second close', () => {
    expect(vfs.run('SYS_CLOSE', { fd: 7 })).toEqual({
      ok: false,
      code: VFS_ERROR,
      message: 'Bad file descriptor: 7 is not open',
    });
    vfs.run('SYS_OPEN', { path: '/mem/working/a' });
    expect(vfs.run('SYS_CLOSE', { fd: 1 })).toMatchObject({ ok: true });
    expect(vfs.run('SYS_CLOSE', { fd: 1 })).toMatchObject({ code: VFS_ERROR, message: /Bad file descriptor: 1/ });
  });
});

describe('SYS_STAT', () => {
  it('describes a file with the seed content hash and the time of the last write', () => {
    vfs.run('SYS_WRITE', { path: '/mem/episodic/d/x', data: 'ab' }, T0);
    vfs.run('SYS_WRITE', { path: '/mem/episodic/d/x', data: 'c', mode: 'a' }, T1);
    expect(vfs.run('SYS_STAT', { path: '/mem/episodic/d/x' })).toEqual({
      ok: true,
      // sha256('abc') = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
      returnValue: { path: '/mem/episodic/d/x', type: 'file', size: 3, contentHash: 'ba7816bf8f01cfea', modified: T1 },
    });
  });

  it('describes mount roots and prefixes of existing files as directories', () => {
    vfs.run('SYS_WRITE', { path: '/mem/episodic/d/e/x', data: 'abc' });
    const dir = (path: string) => ({
      ok: true,
      returnValue: { path, type: 'directory', size: 0, contentHash: null, modified: null },
    });
    expect(vfs.run('SYS_STAT', { path: '/mem/episodic/d' })).toEqual(dir('/mem/episodic/d'));
    expect(vfs.run('SYS_STAT', { path: '/mem/episodic/d/e' })).toEqual(dir('/mem/episodic/d/e'));
    expect(vfs.run('SYS_STAT', { path: '/ipc' })).toEqual(dir('/ipc'));
    expect(vfs.run('SYS_STAT', { path: '/policy' })).toEqual(dir('/policy'));
  });

  it('answers 3 for what does not exist, including a mere string prefix of a file', () => {
    vfs.run('SYS_WRITE', { path: '/mem/episodic/data.txt', data: 'abc' });
    expect(vfs.run('SYS_STAT', { path: '/mem/episodic/dat' })).toEqual({
      ok: false,
      code: VFS_ERROR,
      message: 'No such file or directory: /mem/episodic/dat',
    });
    expect(vfs.run('SYS_STAT', { path: '/mem/episodic/nothing' })).toMatchObject({ code: VFS_ERROR });
    expect(vfs.run('SYS_STAT', {})).toMatchObject({ code: MISSING_ARGUMENT });
    expect(vfs.run('SYS_STAT', { path: 1 })).toMatchObject({ code: INVALID_REQUEST });
  });
});

describe('executeVfsSyscall', () => {
  it('never changes the state it decides on', () => {
    vfs.run('SYS_WRITE', { path: '/mem/working/a', data: 'x' });
    vfs.run('SYS_OPEN', { path: '/mem/working/a' });
    const before = toVfsSnapshot(vfs.state);
    const digest = vfsDigest(vfs.state);
    const untouched = cloneVfsState(vfs.state);
    const calls: [Parameters<typeof executeVfsSyscall>[1], Record<string, unknown>][] = [
      ['SYS_WRITE', { path: '/mem/working/a', data: 'yyy', mode: 'a' }],
      ['SYS_WRITE', { path: '/mem/working/b', data: 'AAEC', encoding: 'base64' }],
      ['SYS_OPEN', { path: '/mem/working/a', mode: 'w' }],
      ['SYS_CLOSE', { fd: 1 }],
      ['SYS_READ', { path: '/mem/working/a' }],
      ['SYS_STAT', { path: '/mem/working/a' }],
    ];
    for (const [syscall, args] of calls) {
      expect(executeVfsSyscall(vfs.state, syscall, args, T1, DEFAULT_VFS_LIMITS)).toMatchObject({ ok: true });
    }
    expect(toVfsSnapshot(vfs.state)).toEqual(before);
    expect(vfsDigest(vfs.state)).toBe(digest);
    expect(vfs.state).toEqual(untouched);
  });

  it('decides the same outcome whatever the decision time', () => {
    const args = { path: '/mem/working/a', data: 'x' };
    expect(executeVfsSyscall(vfs.state, 'SYS_WRITE', args, T0, DEFAULT_VFS_LIMITS)).toEqual(
      executeVfsSyscall(vfs.state, 'SYS_WRITE', args, T1, DEFAULT_VFS_LIMITS),
    );
  });

  it('answers -5 for args that are not an object and -3 for a syscall it has no handler for', () => {
    const s = emptyVfsState();
    expect(executeVfsSyscall(s, 'SYS_READ', null as any, T0, DEFAULT_VFS_LIMITS)).toMatchObject({
      code: INVALID_REQUEST,
      message: /must be an object, got null/,
    });
    expect(executeVfsSyscall(s, 'SYS_READ', ['/x'] as any, T0, DEFAULT_VFS_LIMITS)).toMatchObject({
      code: INVALID_REQUEST,
    });
    expect(executeVfsSyscall(s, 'SYS_FORK' as any, {}, T0, DEFAULT_VFS_LIMITS)).toEqual({
      ok: false,
      code: NO_HANDLER,
      message: 'No VFS handler for SYS_FORK',
    });
  });

  it('ignores arguments it does not know', () => {
    expect(vfs.run('SYS_WRITE', { path: '/state/a', data: 'x', flags: 'whatever' })).toMatchObject({ ok: true });
  });
});
