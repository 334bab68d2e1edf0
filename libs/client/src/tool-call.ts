/** What the kernel sends a tool provider on `agentos.v1.tool.<name>` for a SYS_EXEC. */
export interface ToolCall {
  agentId: string;
  args: Record<string, unknown>;
  inputPrompt?: string;
  /** Stable across the agent's retries of one request: use it to make a tool idempotent. */
  callId: string;
}

/** What a tool provider answers; the kernel turns `ok: false` into -500 `<type>: <message>`. */
export type ToolReply = { ok: true; result: unknown } | { ok: false; error: { type: string; message: string } };

/** A tool call from the bytes of a request, or why they are not one. */
export function parseToolCall(data: Uint8Array): { call: ToolCall } | { invalid: string } {
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder().decode(data));
  } catch {
    return { invalid: 'the request is not JSON' };
  }
  if (!isObject(body)) return { invalid: 'the request must be an object {agentId, args, inputPrompt?, callId}' };
  const { agentId, args, inputPrompt, callId } = body;
  if (typeof agentId !== 'string') return { invalid: 'agentId must be a string' };
  if (typeof callId !== 'string') return { invalid: 'callId must be a string' };
  if (args !== undefined && args !== null && !isObject(args)) return { invalid: 'args must be an object' };
  if (inputPrompt !== undefined && inputPrompt !== null && typeof inputPrompt !== 'string') {
    return { invalid: 'inputPrompt must be a string' };
  }
  return {
    call: { agentId, callId, args: args ?? {}, ...(typeof inputPrompt === 'string' ? { inputPrompt } : {}) },
  };
}

/** The reply for whatever a handler threw: its class name is the type the agent will see. */
export function toolFailure(err: unknown): ToolReply {
  if (!(err instanceof Error)) return { ok: false, error: { type: 'Error', message: String(err) } };
  const className = err.constructor?.name;
  // A plain Error renamed by hand (`e.name = 'Timeout'`) says more by its name than by its class.
  const type = className && className !== 'Error' ? className : err.name || 'Error';
  return { ok: false, error: { type, message: err.message } };
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}
