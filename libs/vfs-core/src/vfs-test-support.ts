import { EventTypes, type SyscallRecordedV1, type VfsSyscallName } from '#contracts';
import { executeVfsSyscall, type VfsOutcome } from './vfs-executor.js';
import { DEFAULT_VFS_LIMITS, type VfsLimits } from './vfs-limits.js';
import { applyVfsEvent, type VfsFoldableEvent } from './vfs-reducer.js';
import type { VfsState } from './vfs-state.js';

/** Test support only (not exported by the library): the kernel + VFS service round trip in memory. */

export const T0 = '2026-11-24T10:00:00.000Z';

/** The SyscallRecorded event the kernel would append for this outcome. */
export function recordedEvent(
  syscall: VfsSyscallName,
  args: Record<string, unknown>,
  outcome: VfsOutcome,
  at: string,
): VfsFoldableEvent & { data: SyscallRecordedV1 } {
  return {
    type: EventTypes.SyscallRecorded,
    schemaVersion: 1,
    data: {
      requestId: `req-${at}`,
      syscall,
      args,
      decision: {
        allowed: true,
        mode: 'permissive',
        action: null,
        policyVersion: null,
        rule: null,
        reason: null,
        shadow: false,
        onViolation: null,
      },
      result: outcome.ok
        ? { success: true, returnValue: outcome.returnValue ?? null, errorCode: null, errorMessage: null }
        : { success: false, returnValue: null, errorCode: outcome.code, errorMessage: outcome.message },
      ...(outcome.ok && outcome.effect ? { vfs: outcome.effect } : {}),
      at,
      executionTimeMs: 0.1,
    },
  };
}

/** Decides a syscall, then folds the event that records it, as the kernel and the VFS service do. */
export class VfsHarness {
  readonly events: ReturnType<typeof recordedEvent>[] = [];

  constructor(
    readonly state: VfsState,
    readonly limits: VfsLimits = DEFAULT_VFS_LIMITS,
  ) {}

  run(syscall: VfsSyscallName, args: Record<string, unknown>, at = T0): VfsOutcome {
    const outcome = executeVfsSyscall(this.state, syscall, args, at, this.limits);
    const event = recordedEvent(syscall, args, outcome, at);
    this.events.push(event);
    applyVfsEvent(this.state, event);
    return outcome;
  }
}
