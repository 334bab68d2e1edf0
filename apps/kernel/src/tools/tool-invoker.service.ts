import { Inject, Injectable } from '@nestjs/common';
import { ErrorCode, Subjects, clip, type SyscallResultV1 } from '#contracts';
import { NatsRpcClient, ServiceUnavailableError } from '#messaging';

interface ToolReply {
  ok?: unknown;
  result?: unknown;
  error?: { type?: unknown; message?: unknown };
}

export interface ToolSettings {
  timeoutMs: number;
  /** A result is recorded and returned: larger ones fail the call (-500) rather than the append. */
  maxResultBytes: number;
}
export const TOOL_SETTINGS = Symbol('TOOL_SETTINGS');

/**
 * Calls a tool provider on `agentos.v1.tool.<name>`. The result, or the failure as
 * `<ErrorType>: <message>` (-500), becomes part of the recorded syscall; replay reads it from
 * the log and never calls the tool again.
 */
@Injectable()
export class ToolInvoker {
  constructor(
    private readonly rpc: NatsRpcClient,
    @Inject(TOOL_SETTINGS) private readonly settings: ToolSettings,
  ) {}

  async invoke(
    name: string,
    call: { agentId: string; args: Record<string, unknown>; inputPrompt?: string; callId: string },
  ): Promise<SyscallResultV1> {
    let reply: ToolReply;
    try {
      const raw = await this.rpc.requestBytes(Subjects.tool(name), call, this.settings.timeoutMs);
      if (raw.byteLength > this.settings.maxResultBytes) {
        return failure(
          'ToolError',
          `tool '${name}' replied with ${raw.byteLength} bytes, more than the ${this.settings.maxResultBytes} a result may take`,
        );
      }
      reply = parseReply(raw);
    } catch (err) {
      if (err instanceof ServiceUnavailableError && err.message.startsWith('malformed reply')) {
        return failure('ProtocolError', `tool '${name}' replied with something that is not JSON`);
      }
      if (err instanceof ServiceUnavailableError) {
        const type = err.maybeDelivered ? 'TimeoutError' : 'ToolUnavailable';
        const message = err.maybeDelivered
          ? `tool '${name}' did not answer within ${this.settings.timeoutMs} ms`
          : `no provider is serving tool '${name}'`;
        return failure(type, message);
      }
      return failure('ToolError', (err as Error).message);
    }
    if (reply && reply.ok === true) {
      return { success: true, returnValue: reply.result ?? null, errorCode: null, errorMessage: null };
    }
    if (reply && reply.ok === false && reply.error) {
      const type = typeof reply.error.type === 'string' && reply.error.type ? reply.error.type : 'ToolError';
      const message = typeof reply.error.message === 'string' ? reply.error.message : 'tool failed';
      return failure(clip(type, 128), clip(message, 4096));
    }
    return failure('ProtocolError', `tool '${name}' replied without {ok: true|false}`);
  }
}

function failure(type: string, message: string): SyscallResultV1 {
  return { success: false, returnValue: null, errorCode: ErrorCode.TOOL_FAILED, errorMessage: `${type}: ${message}` };
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/** The provider's reply; not JSON (or not UTF-8) is the provider's protocol error. */
function parseReply(raw: Uint8Array): ToolReply {
  try {
    return JSON.parse(decoder.decode(raw)) as ToolReply;
  } catch {
    throw new ServiceUnavailableError('malformed reply', true);
  }
}
