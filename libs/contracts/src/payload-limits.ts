/**
 * Sizes that must agree with each other, and with the NATS server's `max_payload` (1 MiB by
 * default), so that anything the system accepts can also travel and be read back:
 *
 * - a request carries at most `maxRequestBytes`; its event (args, decision, result, metadata)
 *   then fits `maxEventBytes`, and an append carrying it fits one NATS message;
 * - a tool's result is recorded and returned, so it is capped at `maxToolResultBytes`;
 * - a file is read back in one reply: `maxFileBytes` in base64 (4/3) plus the reply envelope
 *   fits one NATS message (a utf8 read whose JSON escaping would not fit is refused with 3 and
 *   a hint to read it as base64).
 *
 * `checkPayloadLimits` says which relation a configuration breaks, so a service refuses to
 * start rather than accept writes it could never answer.
 */
export interface PayloadLimits {
  maxRequestBytes: number;
  maxToolResultBytes: number;
  maxFileBytes: number;
}

export const DEFAULT_PAYLOAD_LIMITS: Readonly<PayloadLimits> = Object.freeze({
  maxRequestBytes: 256 * 1024,
  maxToolResultBytes: 512 * 1024,
  maxFileBytes: 512 * 1024,
});

/** Room for a reply's or an event's own fields around the payload it carries. */
export const ENVELOPE_BYTES = 64 * 1024;

/** The largest event the recorder accepts: a whole request, a tool result and the envelope. */
export function maxEventBytes(l: PayloadLimits): number {
  return l.maxRequestBytes + l.maxToolResultBytes + ENVELOPE_BYTES;
}

/** Bytes a file of `size` bytes takes in a base64 reply. */
export function base64Length(size: number): number {
  return Math.ceil(size / 3) * 4;
}

/** Problems of a configuration against the NATS server's max_payload (empty when consistent). */
export function checkPayloadLimits(l: PayloadLimits, natsMaxPayload: number): string[] {
  const problems: string[] = [];
  const event = maxEventBytes(l);
  if (event > natsMaxPayload) {
    problems.push(
      `a request (${l.maxRequestBytes}) and a tool result (${l.maxToolResultBytes}) with their envelope take ${event} bytes, ` +
        `more than the NATS max_payload of ${natsMaxPayload}: lower AGENTOS_MAX_REQUEST_BYTES or AGENTOS_MAX_TOOL_RESULT_BYTES`,
    );
  }
  const read = base64Length(l.maxFileBytes) + ENVELOPE_BYTES;
  if (read > natsMaxPayload) {
    problems.push(
      `reading a file of ${l.maxFileBytes} bytes in base64 takes ${read} bytes, more than the NATS max_payload of ` +
        `${natsMaxPayload}: lower AGENTOS_VFS_MAX_FILE_BYTES or raise max_payload`,
    );
  }
  return problems;
}
