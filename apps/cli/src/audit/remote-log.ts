import { Subjects, formatPosition } from '#contracts';
import type { AuditLogQuery, LogHead, RecordedEvent } from '#event-store';
import type { NatsSession } from '../nats-session.js';

/** `agentos.v1.audit.head`: with several partitions, partition 0's head, the count and every head. */
export type RemoteHead = LogHead & { partitions?: number; heads?: LogHead[] };

/** The log as the command line sees it: its partition count and every partition's head, 0 first. */
export interface RemoteLog {
  partitions: number;
  heads: LogHead[];
}

/**
 * Pages through matching events over `agentos.v1.audit.query`: in position order with one
 * partition (or with `partition`), in the merged order (recorded time, partition, position)
 * with several, following each page's `next` (a position, or a cursor).
 */
export async function* remoteEvents(
  s: NatsSession,
  filter: AuditLogQuery,
  pageSize = 2000,
): AsyncGenerator<RecordedEvent> {
  let after = filter.after;
  for (;;) {
    const page = await s.request<{ events: RecordedEvent[]; next: number | string | null }>(Subjects.auditQuery, {
      ...filter,
      ...(after !== undefined ? { after } : {}),
      limit: pageSize,
    });
    for (const e of page.events) yield e;
    if (page.next === null || page.events.length === 0) return;
    after = page.next;
  }
}

export function remoteHead(s: NatsSession): Promise<RemoteHead> {
  return s.request<RemoteHead>(Subjects.auditHead, {});
}

/** The partition count and every head (one partition: the head alone). */
export async function remoteLog(s: NatsSession): Promise<RemoteLog> {
  const h = await remoteHead(s);
  if (!h.heads || !h.partitions || h.partitions <= 1) {
    const { partitions: _p, heads: _h, ...head } = h;
    return { partitions: 1, heads: [head] };
  }
  return { partitions: h.partitions, heads: h.heads };
}

/** hash of the event just before `position` in a partition (64 zeros before the first). */
export async function hashBefore(s: NatsSession, position: number, partition?: number): Promise<string> {
  if (position <= 1) return '0'.repeat(64);
  const page = await s.request<{ events: RecordedEvent[] }>(Subjects.auditQuery, {
    ...(partition !== undefined ? { partition } : {}),
    after: position - 2,
    toPosition: position - 1,
    limit: 1,
  });
  if (!page.events.length)
    throw new Error(
      `the log has no event at position ${partition !== undefined ? `${partition}:` : ''}${position - 1}`,
    );
  return page.events[0].hash;
}

/**
 * Where a merged read has got to: per partition, the last position consumed. `after` is what to
 * ask the next page with: a position with one partition, a cursor (`0:12,1:40,...`) with several.
 */
export class MergeCursor {
  private readonly at: number[];

  constructor(
    readonly partitions: number,
    start: number[] | number = 0,
  ) {
    this.at = Array.isArray(start) ? [...start] : new Array<number>(partitions).fill(start);
  }

  advance(e: RecordedEvent): void {
    this.at[this.partitions > 1 ? (e.partition ?? 0) : 0] = e.position;
  }

  get after(): number | string {
    return this.partitions > 1 ? this.at.map((pos, p) => `${p}:${pos}`).join(',') : this.at[0];
  }
}

/** An event's position as people read it: `42` with one partition, `3:42` with several. */
export function eventPosition(e: RecordedEvent, partitions: number): string {
  return formatPosition(e.partition ?? 0, e.position, partitions);
}
