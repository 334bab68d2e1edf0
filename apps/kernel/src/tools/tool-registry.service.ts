import { Injectable } from '@nestjs/common';
import { EventTypes, TOOLS_STREAM, type ToolRegisteredV1 } from '#contracts';
import { PgEventReader, StreamStateCache } from '#event-store';
import { CommittedEventsFeed } from '#runtime';

export interface ToolRegistryState {
  tools: Record<string, { description: string | null; registeredAt: string }>;
}

/** Registered tools, folded from the `$tools` stream. */
@Injectable()
export class ToolRegistry {
  private readonly cache: StreamStateCache<ToolRegistryState>;

  constructor(reader: PgEventReader, feed: CommittedEventsFeed) {
    this.cache = new StreamStateCache<ToolRegistryState>(reader, {
      fold: (s, e) => {
        const state = s ?? { tools: {} };
        if (e.type === EventTypes.ToolRegistered) {
          const d = e.data as ToolRegisteredV1;
          state.tools[d.name] = { description: d.description, registeredAt: d.at };
        }
        return state;
      },
      clone: (s) => structuredClone(s),
    });
    feed.onEvents((events) => this.cache.applyAll(events, (stream) => stream === TOOLS_STREAM));
  }

  /** Whether the tool is registered; a miss is checked against the log once (it may be brand new). */
  async isRegistered(name: string): Promise<boolean> {
    const cached = await this.cache.get(TOOLS_STREAM);
    if (cached.state?.tools[name]) return true;
    const fresh = await this.cache.refresh(TOOLS_STREAM);
    return Boolean(fresh.state?.tools[name]);
  }

  async list(): Promise<ToolRegistryState['tools']> {
    return (await this.cache.get(TOOLS_STREAM)).state?.tools ?? {};
  }

  async version(): Promise<number> {
    return (await this.cache.get(TOOLS_STREAM)).version;
  }

  refreshed(): void {
    void this.cache.refresh(TOOLS_STREAM).catch(() => undefined);
  }
}
