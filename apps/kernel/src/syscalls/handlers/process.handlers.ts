import { Injectable } from '@nestjs/common';
import { ErrorCode, TOOL_NAME_PATTERN } from '#contracts';
import { ToolInvoker } from '../../tools/tool-invoker.service.js';
import { ToolRegistry } from '../../tools/tool-registry.service.js';
import { fail, ok, outcome, type HandlerContext, type HandlerOutcome } from '../syscall-outcome.js';

/** SYS_EXIT and SYS_EXEC. */
@Injectable()
export class ProcessHandlers {
  constructor(
    private readonly tools: ToolRegistry,
    private readonly invoker: ToolInvoker,
  ) {}

  /** `{code?}`: the agent is terminated; later syscalls get -1 (the seed gave 2). */
  exit(c: HandlerContext): HandlerOutcome {
    const code = c.args.code ?? 0;
    if (!Number.isSafeInteger(code)) return outcome(fail(ErrorCode.INVALID_REQUEST, 'code must be an integer'));
    return outcome(ok(code), { kernel: { op: 'exit', code: code as number } });
  }

  /**
   * `{tool, args?, inputPrompt?}`: calls the provider after policy allowed it. A retry of the same
   * request (after a version conflict) reuses the first result: a tool never runs twice for one
   * request. The provider gets a stable `callId` (agentId:requestId) to deduplicate on its side.
   */
  async exec(c: HandlerContext): Promise<HandlerOutcome> {
    const { tool, args = {}, inputPrompt } = c.args as { tool?: unknown; args?: unknown; inputPrompt?: unknown };
    if (tool === undefined || tool === null || tool === '')
      return outcome(fail(ErrorCode.MISSING_ARGUMENT, 'No tool specified'));
    if (typeof tool !== 'string' || !TOOL_NAME_PATTERN.test(tool)) {
      return outcome(fail(ErrorCode.INVALID_REQUEST, 'tool must be a tool name ([A-Za-z0-9_-], 1..128)'));
    }
    if (typeof args !== 'object' || args === null || Array.isArray(args)) {
      return outcome(fail(ErrorCode.INVALID_REQUEST, 'args must be an object'));
    }
    if (inputPrompt !== undefined && typeof inputPrompt !== 'string') {
      return outcome(fail(ErrorCode.INVALID_REQUEST, 'inputPrompt must be a string'));
    }
    const memoKey = `tool:${tool}`;
    const remembered = c.memo.get(memoKey);
    if (remembered) return outcome(remembered as HandlerOutcome['result']);
    if (!(await this.tools.isRegistered(tool))) {
      return outcome(fail(ErrorCode.TOOL_NOT_REGISTERED, `Tool '${tool}' not registered in kernel`));
    }
    const result = await this.invoker.invoke(tool, {
      agentId: c.agentId,
      args: args as Record<string, unknown>,
      ...(inputPrompt !== undefined ? { inputPrompt } : {}),
      callId: `${c.agentId}:${c.requestId}`,
    });
    c.memo.set(memoKey, result);
    return outcome(result);
  }
}
