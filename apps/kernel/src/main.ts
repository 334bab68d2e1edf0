import { ErrorCode } from '#contracts';
import { bootstrapService } from '#runtime';
import { KernelModule } from './kernel.module.js';

await bootstrapService({
  service: 'kernel',
  module: (rt) => KernelModule.forRoot(rt),
  transport: {
    // A syscall the pipeline could not answer still gets a protocol reply (the kernel survives).
    fallbackReply: (err) => ({
      id: null,
      success: false,
      returnValue: null,
      errorCode: ErrorCode.HANDLER_ERROR,
      errorMessage: (err as Error)?.message ?? 'internal error',
      executionTimeMs: 0,
    }),
  },
});
