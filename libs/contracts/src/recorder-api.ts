import type { AppendOutcome, AppendRequest, LogHead, RecordedEvent } from './events/event-record.js';

/** Error body of every operator API (and admin subjects): `{error: {code, message}}`. */
export interface ApiError {
  error: { code: number; message: string; outcomeUnknown?: boolean; [detail: string]: unknown };
}

/**
 * An append over NATS. `deadline` (epoch ms): the recorder refuses the request (-7, nothing
 * recorded) if no transaction took it by then, so a caller that gave up waiting can learn the
 * outcome for certain by looking for its event ids after the deadline.
 */
export type RecorderAppendRequest = AppendRequest & { deadline?: number };
export type RecorderAppendReply = AppendOutcome | ApiError;

/**
 * `agentos.internal.recorder.append.<p>` (Subjects.recorderAppendBatch): many appends in one message.
 * Each request is checked on its own (an invalid one gets its own -5 and the others go on) and all
 * go to the same group commit. `deadline` applies to every request (a request's own `deadline`,
 * if earlier, wins).
 */
export interface RecorderAppendBatchRequest {
  requests: RecorderAppendRequest[];
  deadline?: number;
}

/**
 * One entry per request, in request order: its outcome, or `{error: {code, message,
 * outcomeUnknown?}}` as the single-request subject would have answered it (-5 refused, -7 nothing
 * recorded unless `outcomeUnknown`). Sent once every request has its entry.
 */
export interface RecorderAppendBatchReply {
  outcomes: RecorderAppendReply[];
}

export interface RecorderReadStreamRequest {
  streamId: string;
  fromVersion?: number;
  toVersion?: number;
  limit?: number;
}

export interface RecorderReadAllRequest {
  /** The partition to read (default 0). */
  partition?: number;
  after?: number;
  toPosition?: number;
  limit?: number;
  types?: string[];
  streamPrefix?: string;
}

/** `agentos.v1.recorder.head` `{partition?}`: that partition's head, the count, and every head when several. */
export type RecorderHeadReply = LogHead & { partitions: number; heads?: LogHead[] };

export interface RecorderReadReply {
  events: RecordedEvent[];
  head: LogHead;
}

export function isApiError(x: unknown): x is ApiError {
  return typeof x === 'object' && x !== null && 'error' in x && typeof (x as ApiError).error === 'object';
}
