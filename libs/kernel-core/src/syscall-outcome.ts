import type {
  KernelEffectV1,
  LifecycleState,
  ReturnedContentV2,
  SignalDeliveredV1,
  SignalSentV1,
  SyscallResultV1,
  VfsEffectV1,
} from '#contracts';

/** Signals a syscall delivers to one agent (the caller itself or another). */
export interface SignalDeliveries {
  agentId: string;
  /** The target's stream version the deliveries were decided on (its expected version). */
  baseVersion: number;
  events: SignalDeliveredV1[];
  stateAfter: LifecycleState;
  /** The signal as sent (SYS_SIGNAL): what a relay delivers when the target is in another partition. */
  sent?: SignalSentV1;
}

/** What a handler decided: the result, the effects to record, the signals to deliver. */
export interface HandlerOutcome {
  result: SyscallResultV1;
  vfs?: VfsEffectV1;
  /** A read's digest: recorded instead of the content, which the reply still carries. */
  returned?: ReturnedContentV2;
  kernel?: KernelEffectV1;
  deliveries?: SignalDeliveries[];
}

export function ok(returnValue: unknown): SyscallResultV1 {
  return { success: true, returnValue: returnValue ?? null, errorCode: null, errorMessage: null };
}

export function fail(errorCode: number, errorMessage: string): SyscallResultV1 {
  return { success: false, returnValue: null, errorCode, errorMessage };
}

export function outcome(result: SyscallResultV1, extra: Omit<HandlerOutcome, 'result'> = {}): HandlerOutcome {
  return { result, ...extra };
}
