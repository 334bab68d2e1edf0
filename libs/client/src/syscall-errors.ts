import { ErrorCode, type SyscallReply } from '#contracts';

/** A syscall that did not succeed; `code` is the protocol's error code (docs/protocol.md). */
export class SyscallError extends Error {
  override name = 'SyscallError';
  constructor(
    readonly code: number,
    message: string,
    readonly syscall: string,
    readonly requestId: string | null,
    /** Log position of the event that recorded the failure, when one was recorded. */
    readonly position?: string,
  ) {
    super(message);
  }
}

/** -1: the agent was terminated (SIGKILL, SIGTERM, SYS_EXIT); every later syscall fails the same way. */
export class AgentTerminatedError extends SyscallError {
  override name = 'AgentTerminatedError';
}

/** -2: a policy refused the syscall; by default the kernel then kills the agent (SIGPOLICY). */
export class PolicyViolationError extends SyscallError {
  override name = 'PolicyViolationError';

  /** The rule's reason, without the `Policy '<SYSCALL>' blocked: ` lead-in. */
  get reason(): string {
    return this.message.replace(/^Policy '[^']*' blocked: /, '');
  }
}

/** -3: the syscall exists but has no handler. */
export class NoHandlerError extends SyscallError {
  override name = 'NoHandlerError';
}

/** -4: the kernel's handler failed unexpectedly; the kernel survived. */
export class KernelHandlerError extends SyscallError {
  override name = 'KernelHandlerError';
}

/** -5: the request was malformed (unknown syscall, bad id, bad argument types, too large). */
export class InvalidRequestError extends SyscallError {
  override name = 'InvalidRequestError';
}

/** -6: the agent is stopped (SIGSTOP, SIGINT, SIGBUDGET) until SIGCONT. */
export class AgentStoppedError extends SyscallError {
  override name = 'AgentStoppedError';
}

/** -7: nothing was recorded. The client already retried with the same id; it is safe to try again later. */
export class KernelUnavailableError extends SyscallError {
  override name = 'KernelUnavailableError';
}

/** 1: a required argument is missing. */
export class MissingArgumentError extends SyscallError {
  override name = 'MissingArgumentError';
}

/** 2: the agent (or the signal's target) is not registered. */
export class AgentNotRegisteredError extends SyscallError {
  override name = 'AgentNotRegisteredError';
}

/** 3: no such file, read-only mount, path outside every mount, bad file descriptor. */
export class VfsError extends SyscallError {
  override name = 'VfsError';
}

/** -404: the tool is not registered. */
export class ToolNotRegisteredError extends SyscallError {
  override name = 'ToolNotRegisteredError';
}

/** -500: the tool failed; the message is `<ErrorType>: <message>`. */
export class ToolFailedError extends SyscallError {
  override name = 'ToolFailedError';

  /** The tool's own error class name (`ValueError` in `ValueError: bad input`). */
  get toolErrorType(): string {
    const colon = this.message.indexOf(': ');
    return colon > 0 ? this.message.slice(0, colon) : 'Error';
  }
}

const ERROR_BY_CODE: ReadonlyMap<number, typeof SyscallError> = new Map<number, typeof SyscallError>([
  [ErrorCode.TERMINATED, AgentTerminatedError],
  [ErrorCode.POLICY_VIOLATION, PolicyViolationError],
  [ErrorCode.NO_HANDLER, NoHandlerError],
  [ErrorCode.HANDLER_ERROR, KernelHandlerError],
  [ErrorCode.INVALID_REQUEST, InvalidRequestError],
  [ErrorCode.STOPPED, AgentStoppedError],
  [ErrorCode.UNAVAILABLE, KernelUnavailableError],
  [ErrorCode.MISSING_ARGUMENT, MissingArgumentError],
  [ErrorCode.NOT_REGISTERED, AgentNotRegisteredError],
  [ErrorCode.VFS_ERROR, VfsError],
  [ErrorCode.TOOL_NOT_REGISTERED, ToolNotRegisteredError],
  [ErrorCode.TOOL_FAILED, ToolFailedError],
]);

/** The typed error for a failed reply; a code this SDK does not know gives a plain SyscallError. */
export function syscallErrorFrom(reply: SyscallReply, syscall: string): SyscallError {
  // A failure without a code breaks the protocol; it is the kernel's fault, as -4 is.
  const code = reply.errorCode ?? ErrorCode.HANDLER_ERROR;
  const ErrorType = ERROR_BY_CODE.get(code) ?? SyscallError;
  const message = reply.errorMessage ?? `${syscall} failed with code ${code}`;
  return new ErrorType(code, message, syscall, reply.id, reply.position);
}
