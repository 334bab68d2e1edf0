/** Error codes of the wire protocol (docs/protocol.md). */
export const ErrorCode = {
  /** agent has been terminated (SIGKILL, SIGTERM, SYS_EXIT) */
  TERMINATED: -1,
  /** policy violation */
  POLICY_VIOLATION: -2,
  /** unknown syscall / no handler */
  NO_HANDLER: -3,
  /** handler raised an unexpected error (the kernel survives) */
  HANDLER_ERROR: -4,
  /** invalid request: not JSON, not an object, unknown syscall name, bad id, bad argument types, too large */
  INVALID_REQUEST: -5,
  /** agent is stopped until SIGCONT */
  STOPPED: -6,
  /** kernel unavailable: nothing was recorded, retry with the same id */
  UNAVAILABLE: -7,
  /** missing argument */
  MISSING_ARGUMENT: 1,
  /** agent not registered / no VFS for agent */
  NOT_REGISTERED: 2,
  /** VFS error: no such file, read-only mount, path outside every mount, bad fd */
  VFS_ERROR: 3,
  /** tool not registered */
  TOOL_NOT_REGISTERED: -404,
  /** tool failed */
  TOOL_FAILED: -500,
} as const;

export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

/** A failure the caller caused or must know about, carrying its protocol code. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  constructor(
    readonly code: ErrorCodeValue,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}
