import { Injectable } from '@nestjs/common';
import { ErrorCode } from '#contracts';
import { PolicyGate } from '../../policy/policy-gate.service.js';
import { fail, ok, outcome, type HandlerContext, type HandlerOutcome } from '../syscall-outcome.js';

/** SYS_CHECKPOLICY (never itself a violation, unlike the seed) and SYS_GETPOLICY. */
@Injectable()
export class PolicyQueryHandlers {
  constructor(private readonly gate: PolicyGate) {}

  /** `{action, target?, args?}` → `{allowed, reason?, action, agentId}`. */
  checkPolicy(c: HandlerContext): HandlerOutcome {
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
    const d = this.gate.decide(
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
  getPolicy(c: HandlerContext): HandlerOutcome {
    const action = c.args.action;
    if (action !== undefined && typeof action !== 'string')
      return outcome(fail(ErrorCode.INVALID_REQUEST, 'action must be a string'));
    return outcome(ok(this.gate.view(c.policy, c.state.role, action as string | undefined)));
  }
}
