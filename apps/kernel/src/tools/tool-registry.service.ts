import { Injectable } from '@nestjs/common';
import { EventTypes, TOOLS_STREAM, TOOL_NAME_PATTERN } from '#contracts';
import { PgEventReader, StreamStateCache, type StreamEvent } from '#event-store';
import { CommittedEventsFeed } from '#runtime';

export interface RegisteredTool {
  description: string | null;
  registeredAt: string;
}

/** Tools by name (a Map: names come from operators and agents ask for any name). */
export type ToolRegistryState = Map<string, RegisteredTool>;

/** Folds `$tools` in place; a registration it cannot read is skipped (the log may predate schema checks). */
export function evolveTools(s: ToolRegistryState | null, e: StreamEvent): ToolRegistryState {
  const state = s ?? new Map<string, RegisteredTool>();
  if (e.type !== EventTypes.ToolRegistered || e.schemaVersion !== 1) return state;
  const d = e.data as Record<string, unknown> | null;
  if (!d || typeof d.name !== 'string' || !TOOL_NAME_PATTERN.test(d.name)) return state;
  state.set(d.name, {
    description: typeof d.description === 'string' ? d.description : null,
    registeredAt: typeof d.at === 'string' ? d.at : '',
  });
  return state;
}

/** Registered tools, folded from the `$tools` stream. */
@Injectable()
export class ToolRegistry {
  private readonly cache: StreamStateCache<ToolRegistryState>;

  constructor(reader: PgEventReader, feed: CommittedEventsFeed) {
    this.cache = new StreamStateCache<ToolRegistryState>(reader, {
      fold: evolveTools,
      clone: (s) => new Map(s),
    });
    feed.onCommitted((hint) => {
      for (const [stream, version] of hint.s) if (stream === TOOLS_STREAM) this.cache.moved(stream, version);
    });
  }

  /** Whether the tool is registered; a miss is checked against the log once (it may be brand new). */
  async isRegistered(name: string): Promise<boolean> {
    const cached = await this.cache.get(TOOLS_STREAM);
    if (cached.state?.has(name)) return true;
    const fresh = await this.cache.refresh(TOOLS_STREAM);
    return Boolean(fresh.state?.has(name));
  }

  async list(): Promise<ToolRegistryState> {
    return (await this.cache.get(TOOLS_STREAM)).state ?? new Map();
  }

  async version(): Promise<number> {
    return (await this.cache.get(TOOLS_STREAM)).version;
  }

  refreshed(): void {
    void this.cache.refresh(TOOLS_STREAM).catch(() => undefined);
  }
}
