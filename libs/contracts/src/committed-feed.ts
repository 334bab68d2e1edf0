/** One committed event as the recorder's feed carries it (no hashes; the log has them). */
export interface FeedEvent {
  position: number;
  streamId: string;
  streamVersion: number;
  eventId: string;
  type: string;
  schemaVersion: number;
  data: unknown;
  metadata: Record<string, unknown>;
  recordedAt: string;
}

/** A message of the feed: consecutive events of one or more commits. */
export interface FeedMessage {
  events: FeedEvent[];
  /** Streams whose events were too large to carry: consumers must read them from the log. */
  omitted?: { streamId: string; streamVersion: number; position: number }[];
}
