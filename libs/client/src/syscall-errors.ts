import { ErrorCode, type SyscallReply } from '#contracts';

/** A syscall that did not succeed: `code` is the protocol's error code. */
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

/** -1: the agent was terminated (SIGKILL, SIGTERM, SYS_EXIT). */
export class AgentTerminatedError extends SyscallError {
  override name = 'AgentTerminatedError';
}
/** -2: a policy refused the syscall. */
export class PolicyViolationError extends SyscallError {
  override name = 'PolicyViolationError';
}
/** -3: the syscall exists but has no handler. */
export class NoHandlerError extends SyscallError {
  override name = 'NoHandlerError';
}
/** -4: the handler failed; the kernel survived. */
export class KernelHandlerError extends SyscallError {
  override name = 'KernelHandlerError';
}
/** -5: the request was malformed. */
export class InvalidRequestError extends SyscallError {
  override name = 'InvalidRequestError';
}
/** -6: the agent is stopped until SIGCONT. */
export class AgentStoppedError extends SyscallError {
  override name = 'AgentStoppedError';
}
/** -7: nothing was recorded; retrying with the same id is safe (the client already did). */
export class KernelUnavailableError extends SyscallError {
  override name = 'KernelUnavailableError';
}
/** 1: a required argument is missing. */
export class MissingArgumentError extends SyscallError {
  override name = 'MissingArgumentError';
}
/** 2: the agent (or the target) is not registered. */
export class AgentNotRegisteredError extends SyscallError {
  override name = 'AgentNotRegisteredError';
}
/** 3: no such file, read-only mount, path outside every mount, bad descriptor, limit. */
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
}

const BY_CODE: Record<number, typeof SyscallError> = {
  [ErrorCode.TERMINATED]: AgentTerminatedError,
  [ErrorCode.POLICY_VIOLATION]: PolicyViolationError,
  [ErrorCode.NO_HANDLER]: NoHandlerError,
  [ErrorCode.HANDLER_ERROR]: KernelHandlerError,
  [ErrorCode.INVALID_REQUEST]: InvalidRequestError,
  [ErrorCode.STOPPED]: AgentStoppedError,
  [ErrorCode.UNAVAILABLE]: KernelUnavailableError,
  [ErrorCode.MISSING_ARGUMENT]: MissingArgumentError,
  [ErrorCode.NOT_REGISTERED]: AgentNotRegisteredError,
  [ErrorCode.VFS_ERROR]: VfsError,
  [ErrorCode.TOOL_NOT_REGISTERED]: ToolNotRegisteredError,
  [ErrorCode.TOOL_FAILED]: ToolFailedError,
};

/** The typed exception for a failed reply. */
export function syscallErrorFrom(reply: SyscallReply, syscall: string): SyscallError {
  const code = reply.errorCode ?? ErrorCode.HANDLER_ERROR;
  const Type = BY_CODE[code] ?? SyscallError;
  return new Type(code, reply.errorMessage ?? `${syscall} failed with code ${code}`, syscall, reply.id, reply.position);
}

/** Errors of the admin subjects (`{error: {code, message}}`). */
export class AdminError extends Error {
  override name = 'AdminError';
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}
