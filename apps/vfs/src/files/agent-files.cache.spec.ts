import pino from 'pino';
import type { PartitionedLog, PgEventReader, RecordedEvent } from '#event-store';
import { AgentFilesCache } from './agent-files.cache.js';

const AT = '2026-11-30T12:00:00.000Z';
const PATH = '/mem/working/log';

/** A recorded append of `data` to the log file, as the kernel records a SYS_WRITE. */
function appendEvent(version: number, data: string): RecordedEvent {
  return {
    partition: 0,
    position: version,
    streamId: 'agent:a',
    streamVersion: version,
    eventId: `00000000-0000-4000-8000-${String(version).padStart(12, '0')}`,
    idempotencyKey: `req:${version}`,
    type: 'SyscallRecorded',
    schemaVersion: 2,
    data: {
      requestId: String(version),
      syscall: 'SYS_WRITE',
      args: { path: PATH, data, mode: 'a' },
      decision: {
        allowed: true,
        mode: 'permissive',
        action: 'file_write',
        policyVersion: null,
        rule: null,
        reason: null,
        shadow: false,
        onViolation: null,
      },
      result: { success: true, returnValue: data.length, errorCode: null, errorMessage: null },
      vfs: { op: 'write', path: PATH, mode: 'a', encoding: 'utf8', bytes: data.length },
      at: AT,
      executionTimeMs: 1,
    },
    metadata: {},
    recordedAt: AT,
    prevHash: '0'.repeat(64),
    hash: '0'.repeat(64),
  };
}

describe('AgentFilesCache', () => {
  it('never applies an event twice when a catch-up from the log and a pending effect race', async () => {
    const log = [appendEvent(1, 'a'), appendEvent(2, 'b'), appendEvent(3, 'c')];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const reader = {
      readStream: async (_s: string, o: { fromVersion?: number; toVersion?: number }) => {
        await gate; // the log answers slowly: the other request runs meanwhile
        return log.filter((e) => e.streamVersion >= (o.fromVersion ?? 1) && e.streamVersion <= (o.toVersion ?? 1e9));
      },
    } as unknown as PgEventReader;
    const cache = new AgentFilesCache(
      reader,
      {} as PartitionedLog,
      { snapshots: false, snapshotEvery: 0, maxBytes: 1e9 },
      pino({ level: 'silent' }),
    );

    // the entry at version 1, with version 2 decided here (pending)
    release();
    await cache.use('a', { version: 1, eventId: log[0].eventId }, () => undefined);
    cache.decided('a', log[1].eventId, {
      base: { version: 1, eventId: log[0].eventId },
      version: 2,
      effect: { op: 'write', path: PATH, mode: 'a', encoding: 'utf8', bytes: 1 },
      args: { path: PATH, data: 'b', mode: 'a' },
      at: AT,
    });

    // a kernel that knows version 3 (read from the log), and one that knows version 2 (pending)
    const slow = new Promise<void>((r) => (release = r));
    reader.readStream = async (_s: string, o: { fromVersion?: number; toVersion?: number }) => {
      await slow;
      return log.filter((e) => e.streamVersion >= (o.fromVersion ?? 1) && e.streamVersion <= (o.toVersion ?? 1e9));
    };
    const contentAt = (p: { ok: boolean; state?: { files: Map<string, { content: Buffer }> } }) =>
      p.ok ? p.state!.files.get(PATH)!.content.toString() : 'stale';
    const three = cache.use('a', { version: 3, eventId: log[2].eventId }, contentAt);
    const two = cache.use('a', { version: 2, eventId: log[1].eventId }, contentAt);
    release();
    expect(await three).toBe('abc');
    expect(await two).toBe('stale'); // the cache knows later files than that kernel: it reloads
    expect(await cache.use('a', { version: 3, eventId: log[2].eventId }, contentAt)).toBe('abc');
  });
});
