import { Inject, Injectable } from '@nestjs/common';
import type pino from 'pino';
import { agentStream, type FilesBase, type VfsEffectV1 } from '#contracts';
import { PartitionedLog, PgEventReader, PgSnapshotStore } from '#event-store';
import { ROOT_LOGGER } from '#runtime';
import {
  applyVfsEffect,
  applyVfsEvent,
  emptyVfsState,
  fromVfsSnapshot,
  toVfsSnapshot,
  type VfsSnapshotV1,
  type VfsState,
} from '#vfs-core';

export interface AgentFilesSettings {
  snapshots: boolean;
  /** Write a snapshot after this many file effects (0: never). */
  snapshotEvery: number;
  /** Most bytes of file systems kept in memory (AGENTOS_VFS_CACHE_BYTES); least recently used go first. */
  maxBytes: number;
}
export const AGENT_FILES_SETTINGS = Symbol('AGENT_FILES_SETTINGS');

/** A decided effect not yet known to be committed: the event that would carry it, and what it changes. */
interface Pending {
  base: FilesBase;
  version: number;
  effect: VfsEffectV1;
  args: Record<string, unknown>;
  at: string;
}

interface Entry {
  state: VfsState;
  base: FilesBase;
  /** Decided here, keyed by the event id the kernel will record them under. */
  pending: Map<string, Pending>;
  effectsSinceSnapshot: number;
  bytes: number;
}

/** A snapshot of an agent's files as of a base (the row's version is the base's). */
interface FilesSnapshotV2 extends Omit<VfsSnapshotV1, 'schemaVersion'> {
  schemaVersion: 2;
  eventId: string | null;
}

export const FILES_SNAPSHOT_SCHEMA = 2;

/** At most this many undecided effects are kept per agent (a kernel has one in flight). */
const MAX_PENDING = 8;

export type Prepared = { ok: true; state: VfsState; base: FilesBase } | { ok: false; stale: FilesBase };

/**
 * Each agent's files, exactly as of the base the kernel names (the last recorded event with a
 * file effect). The kernel's state comes from the log, so its base is committed: when it names
 * an event this service decided (a pending effect), that effect is applied without reading
 * anything; otherwise the missing events are read from the log. Reads, checks and signals never
 * reach this service, and it needs no feed: a VFS decides on what the kernel says is recorded,
 * and the kernel appends only if its own state was current.
 */
@Injectable()
export class AgentFilesCache {
  private readonly entries = new Map<string, Entry>();
  /** Per agent, the tail of the work on its entry: one catch-up or decision at a time. */
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly snapshots: PgSnapshotStore<{ state: VfsState; eventId: string | null }> | null;
  private totalBytes = 0;

  constructor(
    private readonly reader: PgEventReader,
    log: PartitionedLog,
    @Inject(AGENT_FILES_SETTINGS) private readonly settings: AgentFilesSettings,
    @Inject(ROOT_LOGGER) private readonly logger: pino.Logger,
  ) {
    this.snapshots = settings.snapshots
      ? new PgSnapshotStore(log, 'vfs', FILES_SNAPSHOT_SCHEMA, {
          encode: (s) => ({ ...toVfsSnapshot(s.state), schemaVersion: 2, eventId: s.eventId }) as FilesSnapshotV2,
          decode: (j) => {
            const snap = j as FilesSnapshotV2;
            return { state: fromVfsSnapshot({ ...snap, schemaVersion: 1 }), eventId: snap.eventId ?? null };
          },
        })
      : null;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  /**
   * Runs `fn` on the agent's files as of `base` (or `stale`), with no other work on this agent's
   * entry in between: catching up changes the entry in place, so two requests for one agent (from
   * two kernels) must never interleave, or an event could be applied twice.
   */
  use<T>(agentId: string, base: FilesBase, fn: (p: Prepared) => T): Promise<T> {
    const before = this.queues.get(agentId) ?? Promise.resolve();
    const run = before.catch(() => undefined).then(async () => fn(await this.prepare(agentId, base)));
    const tail = run.catch(() => undefined);
    this.queues.set(agentId, tail);
    void tail.then(() => {
      if (this.queues.get(agentId) === tail) this.queues.delete(agentId);
    });
    return run;
  }

  /** The agent's files as of `base`, or `stale` when this service knows later files than the kernel does. */
  private async prepare(agentId: string, base: FilesBase): Promise<Prepared> {
    let e = this.entries.get(agentId);
    if (e) this.touch(agentId, e);
    if (!e || e.base.version < base.version) e = await this.catchUp(agentId, e, base);
    if (e.base.version > base.version) return { ok: false, stale: e.base };
    if (e.base.eventId !== base.eventId) {
      // same version, another event: this copy was decided on something the log does not hold
      this.drop(agentId);
      e = await this.catchUp(agentId, undefined, base);
      if (e.base.version !== base.version || e.base.eventId !== base.eventId) return { ok: false, stale: e.base };
    }
    return { ok: true, state: e.state, base: e.base };
  }

  /** Remembers a decided effect: if the kernel records it as `eventId`, a later base names it. */
  decided(agentId: string, eventId: string, p: Pending): void {
    const e = this.entries.get(agentId);
    if (!e || e.base.version !== p.base.version || e.base.eventId !== p.base.eventId) return;
    e.pending.set(eventId, p);
    while (e.pending.size > MAX_PENDING) e.pending.delete(e.pending.keys().next().value as string);
  }

  /** Brings an entry to `base`: a pending effect it names, else the events from the log. */
  private async catchUp(agentId: string, current: Entry | undefined, base: FilesBase): Promise<Entry> {
    if (current && base.eventId !== null) {
      const p = current.pending.get(base.eventId);
      if (
        p &&
        p.version === base.version &&
        p.base.version === current.base.version &&
        p.base.eventId === current.base.eventId
      ) {
        applyVfsEffect(current.state, p.effect, p.args, p.at);
        current.base = { version: base.version, eventId: base.eventId };
        current.pending.clear();
        this.afterEffect(agentId, current);
        return current;
      }
    }
    const e = await this.loadFromLog(agentId, this.entries.get(agentId), base);
    this.put(agentId, e);
    return e;
  }

  private async loadFromLog(agentId: string, current: Entry | undefined, base: FilesBase): Promise<Entry> {
    const stream = agentStream(agentId);
    let e: Entry;
    if (current) {
      e = current;
    } else {
      const snap = await this.snapshots?.load(stream).catch((err) => {
        this.logger.warn({ agentId, err: (err as Error).message }, 'VFS snapshot unreadable; folding the log');
        return null;
      });
      const usable = snap && snap.version <= base.version;
      e = {
        state: usable ? snap.state.state : emptyVfsState(),
        base: usable ? { version: snap.version, eventId: snap.state.eventId } : { version: 0, eventId: null },
        pending: new Map(),
        effectsSinceSnapshot: 0,
        bytes: 0,
      };
    }
    let from = e.base.version + 1;
    while (from <= base.version) {
      const page = await this.reader.readStream(stream, { fromVersion: from, toVersion: base.version, limit: 1000 });
      if (page.length === 0) break;
      for (const ev of page) {
        if (applyVfsEvent(e.state, ev)) e.base = { version: ev.streamVersion, eventId: ev.eventId };
      }
      from = page[page.length - 1].streamVersion + 1;
    }
    e.pending.clear();
    return e;
  }

  private afterEffect(agentId: string, e: Entry): void {
    this.resize(e);
    e.effectsSinceSnapshot += 1;
    if (this.snapshots && this.settings.snapshotEvery > 0 && e.effectsSinceSnapshot >= this.settings.snapshotEvery) {
      e.effectsSinceSnapshot = 0;
      this.snapshots
        .save({
          streamId: agentStream(agentId),
          version: e.base.version,
          position: 0,
          state: { state: e.state, eventId: e.base.eventId },
        })
        .catch((err) => this.logger.warn({ err: (err as Error).message }, 'snapshot not written'));
    }
    this.evict();
  }

  private put(agentId: string, e: Entry): void {
    if (!this.entries.has(agentId)) this.entries.set(agentId, e);
    this.resize(e);
    this.evict();
  }

  private touch(agentId: string, e: Entry): void {
    this.entries.delete(agentId);
    this.entries.set(agentId, e);
  }

  private resize(e: Entry): void {
    let pending = 0;
    for (const p of e.pending.values()) pending += typeof p.args.data === 'string' ? p.args.data.length : 64;
    const bytes = 512 + e.state.totalBytes + e.state.files.size * 256 + e.state.fds.size * 96 + pending;
    this.totalBytes += bytes - e.bytes;
    e.bytes = bytes;
  }

  private drop(agentId: string): void {
    const e = this.entries.get(agentId);
    if (!e) return;
    this.entries.delete(agentId);
    this.totalBytes -= e.bytes;
  }

  private evict(): void {
    while (this.entries.size > 1 && this.totalBytes > this.settings.maxBytes) {
      this.drop(this.entries.keys().next().value as string);
    }
  }
}
