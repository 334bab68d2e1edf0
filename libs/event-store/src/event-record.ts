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
}

export interface CommittedEvent {
  eventId: string;
  streamId: string;
  streamVersion: number;
  position: number;
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
  position: number;
  hash: string;
  recordedAt: string | null;
}
