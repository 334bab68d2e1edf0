import { ErrorCode } from '#contracts';
import { decidePolicy, policyView } from '../policy-in-force.js';
import { fail, ok, outcome, type HandlerOutcome } from '../syscall-outcome.js';
import type { HandlerContext } from './handler-context.js';

/** `{action, target?, args?}` → `{allowed, reason?, action, agentId}`; asking never violates a policy. */
export function checkPolicy(c: HandlerContext): HandlerOutcome {
  const { action, target, args = {} } = c.args as { action?: unknown; target?: unknown; args?: unknown };
  if (action === undefined || action === null || action === '') {
    return outcome(fail(ErrorCode.MISSING_ARGUMENT, 'No action specified'));
  }
  if (typeof action !== 'string' || action.length > 128)
    return outcome(fail(ErrorCode.INVALID_REQUEST, 'action must be a string'));
  if (typeof args !== 'object' || args === null || Array.isArray(args)) {
    return outcome(fail(ErrorCode.INVALID_REQUEST, 'args must be an object'));
  }
  if (target !== undefined && typeof target !== 'string')
    return outcome(fail(ErrorCode.INVALID_REQUEST, 'target must be a string'));
  const checked =
    target !== undefined ? { ...(args as Record<string, unknown>), target } : (args as Record<string, unknown>);
  const d = decidePolicy(
    {
      agentId: c.agentId,
      role: c.state.role,
      action,
      syscall: 'SYS_CHECKPOLICY',
      args: checked,
      state: c.state,
      at: c.at,
    },
    c.policy,
  );
  return outcome(
    ok({
      allowed: d.allowed,
      ...(!d.allowed || d.shadow ? { reason: d.reason ?? 'Access denied' } : {}),
      ...(d.shadow ? { shadow: true } : {}),
      action,
      agentId: c.agentId,
      policyVersion: d.policyVersion,
      ...(d.rule ? { rule: d.rule } : {}),
    }),
  );
}

/** `{action?}` → the rules that apply to this agent, with the policy version. */
export function getPolicy(c: HandlerContext): HandlerOutcome {
  const action = c.args.action;
  if (action !== undefined && typeof action !== 'string')
    return outcome(fail(ErrorCode.INVALID_REQUEST, 'action must be a string'));
  return outcome(ok(policyView(c.policy, c.state.role, action as string | undefined)));
}
