import type { ErrorCodeValue } from '#contracts';

/** A refused VFS syscall: its protocol code and a message meant for the agent. */
export class VfsFailure extends Error {
  override readonly name = 'VfsFailure';
  constructor(
    readonly code: ErrorCodeValue,
    message: string,
  ) {
    super(message);
  }
}
