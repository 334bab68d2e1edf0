import type { SyscallReply } from '#contracts';
import {
  KernelHandlerError,
  PolicyViolationError,
  SyscallError,
  ToolFailedError,
  VfsError,
  syscallErrorFrom,
} from './syscall-errors.js';

const failure = (errorCode: number | null, errorMessage: string | null): SyscallReply => ({
  id: 'req-1',
  success: false,
  returnValue: null,
  errorCode,
  errorMessage,
  executionTimeMs: 1,
});

describe('syscallErrorFrom', () => {
  it('builds the subclass of the code, carrying what the reply said', () => {
    const err = syscallErrorFrom({ ...failure(3, 'No such file: /mem/working/x'), position: '12' }, 'SYS_READ');
    expect(err).toBeInstanceOf(VfsError);
    expect(err).toBeInstanceOf(SyscallError);
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({
      name: 'VfsError',
      code: 3,
      syscall: 'SYS_READ',
      requestId: 'req-1',
      position: '12',
      message: 'No such file: /mem/working/x',
    });
    expect(String(err)).toBe('VfsError: No such file: /mem/working/x');
  });

  it('treats a failure without a code as the kernel handler failing, and says which syscall failed', () => {
    const err = syscallErrorFrom(failure(null, null), 'SYS_STAT');
    expect(err).toBeInstanceOf(KernelHandlerError);
    expect(err).toMatchObject({ code: -4, message: 'SYS_STAT failed with code -4', position: undefined });
  });

  it('gives a policy violation its rule reason and a tool failure its error type', () => {
    const denied = syscallErrorFrom(failure(-2, "Policy 'SYS_EXEC' blocked: refunds over 500"), 'SYS_EXEC');
    expect((denied as PolicyViolationError).reason).toBe('refunds over 500');
    const toolFailed = syscallErrorFrom(failure(-500, 'ValueError: amount: must be positive'), 'SYS_EXEC');
    expect((toolFailed as ToolFailedError).toolErrorType).toBe('ValueError');
    expect(new ToolFailedError(-500, 'no type here', 'SYS_EXEC', null).toolErrorType).toBe('Error');
  });
});
