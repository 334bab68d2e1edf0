import type { PgEventReader } from './pg-event-reader.js';
import type { PgSnapshotStore } from './snapshot-store.js';

/** The part of an event a fold needs. */
export interface StreamEvent {
  type: string;
  schemaVersion: number;
  data: unknown;
  streamVersion: number;
  position: number;
}

export interface CachedStream<S> {
  /** null when the stream has no state yet (e.g. an unknown agent). */
  state: S | null;
  version: number;
  position: number;
}

export interface StreamStateCacheOptions<S> {
  fold: (state: S | null, e: StreamEvent) => S | null;
  /** Deep copy, so a failed decision can never leave a half-changed cached state. */
  clone: (state: S) => S;
  snapshots?: PgSnapshotStore<S>;
  /** Write a snapshot when this many events were folded since the last one (0: never). */
  snapshotEvery?: number;
  /** Most streams kept in memory; the least recently used are evicted. */
  maxEntries?: number;
  /** Most bytes of state kept in memory (by `sizeOf`); the least recently used are evicted. */
  maxBytes?: number;
  /** Bytes a state takes in memory, roughly (cheap: called after every fold of new events). */
  sizeOf?: (state: S) => number;
  onSnapshotError?: (err: unknown) => void;
}

interface Entry<S> extends CachedStream<S> {
  snapshotVersion: number;
  stale: boolean;
  /** The highest version another writer announced: behind it, the entry reloads on next use. */
  announced: number;
  bytes: number;
}

/**
 * Per-stream state folded from the log, cached in memory. Loading uses the latest snapshot and
 * the events after it. The cache is kept current by the events this process commits and by the
 * recorder's feed of committed events (applied only when they are the next version; otherwise
 * the entry is marked stale and reloaded on next use). It never decides anything by itself: a
 * writer appends with the cached version as expected version, and a conflict means "reload and
 * try again", so a stale entry can cost a retry but never a wrong decision.
 */
export class StreamStateCache<S> {
  private readonly entries = new Map<string, Entry<S>>();
  private readonly loading = new Map<string, { promise: Promise<Entry<S>>; buffered: StreamEvent[] }>();
  private totalBytes = 0;

  constructor(
    private readonly reader: PgEventReader,
    private readonly o: StreamStateCacheOptions<S>,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** Bytes of cached state, as `sizeOf` counts them. */
  get bytes(): number {
    return this.totalBytes;
  }

  /**
   * The current cached state (loading it if needed). The cache folds its own states in place:
   * a caller reads it while it holds the stream's lock, and never changes it itself.
   */
  async get(streamId: string): Promise<CachedStream<S>> {
    const e = this.entries.get(streamId);
    if (e && !e.stale && e.announced <= e.version) {
      // refresh LRU order
      this.entries.delete(streamId);
      this.entries.set(streamId, e);
      return e;
    }
    return this.load(streamId);
  }

  /** Reloads from the log (after a conflict or an uncertain outcome). */
  async refresh(streamId: string): Promise<CachedStream<S>> {
    const e = this.entries.get(streamId);
    if (e) e.stale = true;
    return this.load(streamId);
  }

  invalidate(streamId: string): void {
    this.drop(streamId);
  }

  /** Folds events that follow the cached version (own commits, feed). Out-of-order ones mark it stale. */
  apply(streamId: string, events: StreamEvent[]): void {
    const inflight = this.loading.get(streamId);
    if (inflight) {
      inflight.buffered.push(...events);
      return;
    }
    const e = this.entries.get(streamId);
    if (!e || e.stale) return;
    for (const ev of events) {
      if (ev.streamVersion <= e.version) continue;
      if (ev.streamVersion !== e.version + 1) {
        e.stale = true;
        return;
      }
      this.foldInto(e, ev);
    }
    this.resize(streamId, e);
    this.maybeSnapshot(streamId, e);
    this.evict();
  }

  /**
   * A writer says the stream reached `version` (a feed hint). Compared when the entry is next
   * used, not now: a hint of this process's own commit often arrives before the commit is folded
   * here, and must not cost a reload. Nothing else is taken from the hint.
   */
  moved(streamId: string, version: number): void {
    const e = this.entries.get(streamId);
    if (e && e.announced < version) e.announced = version;
  }

  /** Whether the stream is cached and current as far as this process knows. */
  holds(streamId: string): boolean {
    const e = this.entries.get(streamId);
    return Boolean(e && !e.stale && e.announced <= e.version);
  }

  private load(streamId: string): Promise<Entry<S>> {
    const existing = this.loading.get(streamId);
    if (existing) return existing.promise;
    const slot = { promise: undefined as unknown as Promise<Entry<S>>, buffered: [] as StreamEvent[] };
    slot.promise = (async () => {
      try {
        const entry = await this.loadFromLog(streamId);
        for (const ev of slot.buffered.sort((a, b) => a.streamVersion - b.streamVersion)) {
          if (ev.streamVersion === entry.version + 1) this.foldInto(entry, ev);
        }
        this.drop(streamId);
        if (entry.version > 0) {
          entry.bytes = 0;
          this.entries.set(streamId, entry);
          this.resize(streamId, entry);
          this.maybeSnapshot(streamId, entry);
          this.evict();
        } // else: never cache "does not exist": it may be created elsewhere
        return entry;
      } finally {
        this.loading.delete(streamId);
      }
    })();
    this.loading.set(streamId, slot);
    return slot.promise;
  }

  private async loadFromLog(streamId: string): Promise<Entry<S>> {
    const current = this.entries.get(streamId);
    let entry: Entry<S>;
    if (current && current.version > 0) {
      entry = { ...current, state: current.state ? this.o.clone(current.state) : null, stale: false };
    } else {
      const snap = this.o.snapshots ? await this.o.snapshots.load(streamId) : null;
      entry = snap
        ? {
            state: snap.state,
            version: snap.version,
            position: snap.position,
            snapshotVersion: snap.version,
            stale: false,
            announced: 0,
            bytes: 0,
          }
        : { state: null, version: 0, position: 0, snapshotVersion: 0, stale: false, announced: 0, bytes: 0 };
    }
    for (;;) {
      const page = await this.reader.readStream(streamId, { fromVersion: entry.version + 1, limit: 1000 });
      for (const ev of page) this.foldInto(entry, ev);
      if (page.length < 1000) break;
    }
    return entry;
  }

  private foldInto(e: Entry<S>, ev: StreamEvent): void {
    e.state = this.o.fold(e.state, ev);
    e.version = ev.streamVersion;
    e.position = ev.position;
  }

  private maybeSnapshot(streamId: string, e: Entry<S>): void {
    const every = this.o.snapshotEvery ?? 0;
    if (!this.o.snapshots || every <= 0 || !e.state || e.version - e.snapshotVersion < every) return;
    e.snapshotVersion = e.version;
    const snap = { streamId, version: e.version, position: e.position, state: this.o.clone(e.state) };
    this.o.snapshots.save(snap).catch((err) => this.o.onSnapshotError?.(err));
  }

  /** Recounts a cached entry's bytes after its state changed. */
  private resize(streamId: string, e: Entry<S>): void {
    if (!this.o.sizeOf || this.entries.get(streamId) !== e) return;
    const bytes = e.state ? this.o.sizeOf(e.state) : 0;
    this.totalBytes += bytes - e.bytes;
    e.bytes = bytes;
  }

  private drop(streamId: string): void {
    const e = this.entries.get(streamId);
    if (!e) return;
    this.entries.delete(streamId);
    this.totalBytes -= e.bytes;
  }

  /** Least recently used first, down to both bounds (the newest entry always stays). */
  private evict(): void {
    const maxEntries = this.o.maxEntries ?? 100_000;
    const maxBytes = this.o.maxBytes ?? Infinity;
    while (this.entries.size > 1 && (this.entries.size > maxEntries || this.totalBytes > maxBytes)) {
      this.drop(this.entries.keys().next().value as string);
    }
  }
}
