import { EventTypes } from '#contracts';
import { executeVfsSyscall } from './vfs-executor.js';
import { applyVfsEffect, applyVfsEvent } from './vfs-reducer.js';
import { DEFAULT_VFS_LIMITS } from './vfs-limits.js';
import { emptyVfsState } from './vfs-state.js';
import { T0, recordedEvent } from './vfs-test-support.js';

const T1 = '2026-11-24T11:00:00.000Z';

describe('applyVfsEffect', () => {
  it('creates, replaces and appends, keeping created and totalBytes right', () => {
    const s = emptyVfsState();
    applyVfsEffect(s, { op: 'write', path: '/state/a', mode: 'w', encoding: 'utf8', bytes: 5 }, { data: 'hello' }, T0);
    expect(s.files.get('/state/a')).toEqual({ content: Buffer.from('hello'), created: T0, modified: T0 });
    applyVfsEffect(s, { op: 'write', path: '/state/a', mode: 'a', encoding: 'base64', bytes: 2 }, { data: 'ISE=' }, T1);
    expect(s.files.get('/state/a')).toEqual({ content: Buffer.from('hello!!'), created: T0, modified: T1 });
    applyVfsEffect(s, { op: 'write', path: '/state/b', mode: 'w', encoding: 'utf8', bytes: 3 }, { data: 'abc' }, T1);
    expect(s.totalBytes).toBe(10);
    applyVfsEffect(s, { op: 'write', path: '/state/a', mode: 'w', encoding: 'utf8', bytes: 1 }, { data: 'x' }, T1);
    expect(s.totalBytes).toBe(4);
  });

  it('never mutates a content buffer in place (clones may share them)', () => {
    const s = emptyVfsState();
    applyVfsEffect(s, { op: 'write', path: '/state/a', mode: 'w', encoding: 'utf8', bytes: 1 }, { data: 'a' }, T0);
    const first = s.files.get('/state/a')!.content;
    applyVfsEffect(s, { op: 'write', path: '/state/a', mode: 'a', encoding: 'utf8', bytes: 1 }, { data: 'b' }, T0);
    expect(first.toString()).toBe('a');
  });

  it('trusts the record: no path check, no limit check, fd numbers as recorded', () => {
    const s = emptyVfsState();
    // Rules may tighten later; what was committed replays as it was.
    applyVfsEffect(s, { op: 'write', path: '/legacy//p', mode: 'w', encoding: 'utf8', bytes: 3 }, { data: 'old' }, T0);
    applyVfsEffect(s, { op: 'open', path: '/policy/p', mode: 'w', fd: 41 }, {}, T0);
    expect(s.files.get('/legacy//p')?.content.toString()).toBe('old');
    expect(s.fds.get(41)).toEqual({ path: '/policy/p', mode: 'w' });
    expect(s.nextFd).toBe(42);
    // A lower fd never moves nextFd back.
    applyVfsEffect(s, { op: 'open', path: '/state/x', mode: 'r', fd: 3 }, {}, T0);
    expect(s.nextFd).toBe(42);
    applyVfsEffect(s, { op: 'close', fd: 41 }, {}, T0);
    expect([...s.fds.keys()]).toEqual([3]);
    expect(s.nextFd).toBe(42);
  });
});

describe('applyVfsEvent', () => {
  const write = { path: '/mem/working/a', data: 'x' };
  const ok = () =>
    recordedEvent(
      'SYS_WRITE',
      write,
      executeVfsSyscall(emptyVfsState(), 'SYS_WRITE', write, T0, DEFAULT_VFS_LIMITS),
      T0,
    );

  it('folds a successful SyscallRecorded v1 with a VFS effect, with the recorded time', () => {
    const s = emptyVfsState();
    applyVfsEvent(s, ok());
    expect(s.files.get('/mem/working/a')).toEqual({ content: Buffer.from('x'), created: T0, modified: T0 });
  });

  it('ignores failed syscalls, even with an effect attached', () => {
    const s = emptyVfsState();
    const e = ok();
    e.data.result = { success: false, returnValue: null, errorCode: -2, errorMessage: 'Policy blocked' };
    applyVfsEvent(s, e);
    expect(s).toEqual(emptyVfsState());
  });

  it('ignores syscalls without a VFS effect, other event types and other schema versions', () => {
    const s = emptyVfsState();
    const noEffect = ok();
    delete noEffect.data.vfs;
    applyVfsEvent(s, noEffect);
    applyVfsEvent(s, { ...ok(), schemaVersion: 3 });
    applyVfsEvent(s, { ...ok(), type: EventTypes.SignalDelivered });
    applyVfsEvent(s, { type: EventTypes.AgentCreated, schemaVersion: 1, data: { agentId: 'a', role: 'r', at: T0 } });
    applyVfsEvent(s, { type: EventTypes.SyscallRecorded, schemaVersion: 1, data: null });
    applyVfsEvent(s, { type: EventTypes.SyscallRecorded, schemaVersion: 1, data: { vfs: { op: 'close', fd: 1 } } });
    expect(s).toEqual(emptyVfsState());
  });

  it('folds version 2 (reads record a digest) like version 1', () => {
    const s = emptyVfsState();
    applyVfsEvent(s, { ...ok(), schemaVersion: 2 });
    expect(s.files.size).toBe(1);
  });

  it('skips effects of no known shape instead of throwing', () => {
    const s = emptyVfsState();
    for (const vfs of [
      { op: 'write', path: 7, mode: 'w', encoding: 'utf8', bytes: 1 },
      { op: 'write', path: '/mem/working/x', mode: 'z', encoding: 'utf8', bytes: 1 },
      { op: 'open', path: '/mem/working/x', mode: 'r', fd: '__proto__' },
      { op: '__proto__' },
      'close',
    ]) {
      const e = ok();
      (e.data as unknown as Record<string, unknown>).vfs = vfs;
      expect(() => applyVfsEvent(s, e)).not.toThrow();
    }
    expect(s).toEqual(emptyVfsState());
  });

  it('counts an event without schemaVersion as v1', () => {
    const s = emptyVfsState();
    const { schemaVersion: _v, ...e } = ok();
    applyVfsEvent(s, e);
    expect(s.files.size).toBe(1);
  });
});
