import type { AppendOutcome, AppendRequest, LogHead, RecordedEvent } from '#event-store';

/** Error body of every operator API (and admin subjects): `{error: {code, message}}`. */
export interface ApiError {
  error: { code: number; message: string; outcomeUnknown?: boolean };
}

export type RecorderAppendRequest = AppendRequest;
export type RecorderAppendReply = AppendOutcome | ApiError;

export interface RecorderReadStreamRequest {
  streamId: string;
  fromVersion?: number;
  toVersion?: number;
  limit?: number;
}

export interface RecorderReadAllRequest {
  after?: number;
  toPosition?: number;
  limit?: number;
  types?: string[];
  streamPrefix?: string;
}

export interface RecorderReadReply {
  events: RecordedEvent[];
  head: LogHead;
}

export function isApiError(x: unknown): x is ApiError {
  return typeof x === 'object' && x !== null && 'error' in x && typeof (x as ApiError).error === 'object';
}
