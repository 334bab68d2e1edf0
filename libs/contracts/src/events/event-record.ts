/** A JSON value as it travels in events. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** Who and what caused an event; part of the hashed record. */
export interface EventMetadata {
  agentId?: string;
  host?: string;
  service?: string;
  instanceId?: string;
  correlationId?: string;
  causationId?: string;
  [key: string]: JsonValue | undefined;
}

/** An event as a writer proposes it. */
export interface NewEvent {
  /** UUID chosen by the writer; appending a known event id again is an idempotent no-op. */
  eventId: string;
  type: string;
  schemaVersion: number;
  data: JsonValue;
  metadata?: EventMetadata;
  /** Unique per stream; a second append carrying it returns the original positions. */
  idempotencyKey?: string | null;
}

/** `any` skips the check; a number requires the stream to be exactly at that version (0: no events yet). */
export type ExpectedVersion = number | 'any';

export interface StreamAppend {
  streamId: string;
  expectedVersion: ExpectedVersion;
  events: NewEvent[];
}

/** A stream that must be at an exact version for the append to commit (it is not written). */
export interface StreamCondition {
  streamId: string;
  version: number;
}

/** One atomic unit: every event of every stream commits together, or none does. */
export interface AppendRequest {
  appends: StreamAppend[];
  conditions?: StreamCondition[];
  /**
   * ISO time the events must be recorded strictly after (a delivery after the event in another
   * partition that caused it, whatever the writers' clocks). At most a minute ahead is honoured.
   */
  recordedAfter?: string;
}

export interface CommittedEvent {
  eventId: string;
  streamId: string;
  streamVersion: number;
  /** Position in its partition's log. */
  position: number;
  /** The partition (0 in a log of one partition). */
  partition?: number;
}

/**
 * `committed` with `duplicate: true`: the request carried an event id or idempotency key already
 * in the log, so nothing was appended; `events` are the original events that match.
 */
export type AppendOutcome =
  | { status: 'committed'; duplicate: boolean; events: CommittedEvent[]; recordedAt: string }
  | { status: 'conflict'; streamId: string; expectedVersion: number; actualVersion: number }
  | { status: 'condition_failed'; streamId: string; expectedVersion: number; actualVersion: number }
  | { status: 'rejected'; reason: string };

/** An event read back from the log. */
export interface RecordedEvent {
  /** The partition the event belongs to (0 in a log of one partition). */
  partition?: number;
  /** Position in its partition's log. */
  position: number;
  streamId: string;
  streamVersion: number;
  eventId: string;
  idempotencyKey: string | null;
  type: string;
  schemaVersion: number;
  data: JsonValue;
  metadata: EventMetadata;
  recordedAt: string;
  prevHash: string;
  hash: string;
}

export interface LogHead {
  /** The partition this is the head of (0 in a log of one partition). */
  partition?: number;
  position: number;
  hash: string;
  recordedAt: string | null;
}
