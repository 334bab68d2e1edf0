/** A failed admin request: the reply was `{error: {code, message}}` (codes as in the syscall protocol). */
export class AdminError extends Error {
  override name = 'AdminError';
  constructor(
    readonly code: number,
    message: string,
    /** The admin subject that answered. */
    readonly subject?: string,
  ) {
    super(message);
  }
}
