import { ErrorCode, TOOL_NAME_PATTERN, type SyscallResultV1 } from '#contracts';
import { fail, ok, outcome, type HandlerOutcome } from '../syscall-outcome.js';
import type { HandlerContext } from './handler-context.js';

/** `{code?}`: the agent is terminated; later syscalls get -1 (the seed gave 2). */
export function exit(c: HandlerContext): HandlerOutcome {
  const code = c.args.code ?? 0;
  if (!Number.isSafeInteger(code)) return outcome(fail(ErrorCode.INVALID_REQUEST, 'code must be an integer'));
  return outcome(ok(code), { kernel: { op: 'exit', code: code as number } });
}

/** A SYS_EXEC request whose arguments are well formed: what to ask the tool provider. */
export interface ToolCall {
  tool: string;
  args: Record<string, unknown>;
  inputPrompt?: string;
}

/** `{tool, args?, inputPrompt?}` checked: the call to make, or the failure to record. */
export function toolCall(c: HandlerContext): { call: ToolCall } | { failed: HandlerOutcome } {
  const { tool, args = {}, inputPrompt } = c.args as { tool?: unknown; args?: unknown; inputPrompt?: unknown };
  if (tool === undefined || tool === null || tool === '')
    return { failed: outcome(fail(ErrorCode.MISSING_ARGUMENT, 'No tool specified')) };
  if (typeof tool !== 'string' || !TOOL_NAME_PATTERN.test(tool)) {
    return { failed: outcome(fail(ErrorCode.INVALID_REQUEST, 'tool must be a tool name ([A-Za-z0-9_-], 1..128)')) };
  }
  if (typeof args !== 'object' || args === null || Array.isArray(args)) {
    return { failed: outcome(fail(ErrorCode.INVALID_REQUEST, 'args must be an object')) };
  }
  if (inputPrompt !== undefined && typeof inputPrompt !== 'string') {
    return { failed: outcome(fail(ErrorCode.INVALID_REQUEST, 'inputPrompt must be a string')) };
  }
  return {
    call: { tool, args: args as Record<string, unknown>, ...(inputPrompt !== undefined ? { inputPrompt } : {}) },
  };
}

/** The recorded outcome of a tool call: its provider's result, or -404 when no such tool is registered. */
export function exec(call: ToolCall, registered: boolean, result: SyscallResultV1 | undefined): HandlerOutcome {
  if (!registered) return outcome(fail(ErrorCode.TOOL_NOT_REGISTERED, `Tool '${call.tool}' not registered in kernel`));
  return outcome(result!);
}
