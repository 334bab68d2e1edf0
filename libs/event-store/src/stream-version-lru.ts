/**
 * Stream versions the writer knows, bounded (least recently used entries go first). Only ever
 * exact for the log head the writer has cached: whoever holds it must clear or catch it up when
 * that head turns out to have moved.
 */
export class StreamVersionLru {
  private readonly map = new Map<string, number>();

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.map.size;
  }

  get(streamId: string): number | undefined {
    const v = this.map.get(streamId);
    if (v !== undefined) {
      // most recently used last: Map keeps insertion order
      this.map.delete(streamId);
      this.map.set(streamId, v);
    }
    return v;
  }

  set(streamId: string, version: number): void {
    this.map.delete(streamId);
    this.map.set(streamId, version);
    if (this.map.size > this.capacity) {
      const oldest = this.map.keys().next();
      if (!oldest.done) this.map.delete(oldest.value);
    }
  }

  clear(): void {
    this.map.clear();
  }
}
