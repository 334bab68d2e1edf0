import type {
  KernelEffectV1,
  LifecycleState,
  ReturnedContentV2,
  SignalDeliveredV1,
  SyscallName,
  SyscallResultV1,
  VfsEffectV1,
} from '#contracts';
import type { AgentState } from '#agent-state';
import type { PolicySnapshot } from '../policy/policy-gate.service.js';

/** Signals a syscall delivers to one agent (the caller itself or another). */
export interface SignalDeliveries {
  agentId: string;
  /** The target's stream version the deliveries were decided on (for the expected version). */
  baseVersion: number;
  events: SignalDeliveredV1[];
  stateAfter: LifecycleState;
}

/** What a handler decided: the result, the effects to record, the signals to deliver. */
export interface HandlerOutcome {
  result: SyscallResultV1;
  vfs?: VfsEffectV1;
  /** A read's digest: recorded instead of the content, which the reply still carries. */
  returned?: ReturnedContentV2;
  kernel?: KernelEffectV1;
  deliveries?: SignalDeliveries[];
  /** The decision was made on stale state: reload and decide again. */
  stale?: boolean;
  /** Infrastructure failed before anything was decided: reply -7, record nothing. */
  unavailable?: string;
}

export interface HandlerContext {
  agentId: string;
  requestId: string;
  syscall: SyscallName;
  args: Record<string, unknown>;
  /** A private copy of the agent's state at `state.version`. */
  state: AgentState;
  at: string;
  /** The one policy version this decision uses. */
  policy: PolicySnapshot;
  /** Survives retries of the same request (e.g. a tool result: tools never run twice). */
  memo: Map<string, unknown>;
}

export function ok(returnValue: unknown): SyscallResultV1 {
  return { success: true, returnValue: returnValue ?? null, errorCode: null, errorMessage: null };
}

export function fail(errorCode: number, errorMessage: string): SyscallResultV1 {
  return { success: false, returnValue: null, errorCode, errorMessage };
}

export function outcome(result: SyscallResultV1, extra: Partial<HandlerOutcome> = {}): HandlerOutcome {
  return { result, ...extra };
}
