import { Subjects } from '#contracts';
import type { AuditFilter, LogHead, RecordedEvent } from '#event-store';
import type { NatsSession } from '../nats-session.js';

/** Pages through matching events over `agentos.v1.audit.query`, in position order. */
export async function* remoteEvents(
  s: NatsSession,
  filter: AuditFilter,
  pageSize = 2000,
): AsyncGenerator<RecordedEvent> {
  let after = filter.after;
  for (;;) {
    const page = await s.request<{ events: RecordedEvent[]; next: number | null }>(Subjects.auditQuery, {
      ...filter,
      ...(after !== undefined ? { after } : {}),
      limit: pageSize,
    });
    for (const e of page.events) yield e;
    if (page.next === null || page.events.length === 0) return;
    after = page.next;
  }
}

export function remoteHead(s: NatsSession): Promise<LogHead> {
  return s.request<LogHead>(Subjects.auditHead, {});
}

/** hash of the event just before `position` (64 zeros before the first). */
export async function hashBefore(s: NatsSession, position: number): Promise<string> {
  if (position <= 1) return '0'.repeat(64);
  const page = await s.request<{ events: RecordedEvent[] }>(Subjects.auditQuery, {
    after: position - 2,
    toPosition: position - 1,
    limit: 1,
  });
  if (!page.events.length) throw new Error(`the log has no event at position ${position - 1}`);
  return page.events[0].hash;
}
