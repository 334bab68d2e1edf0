import { ErrorCode } from '#contracts';
import { bootstrapService } from '#runtime';
import { KernelModule } from './kernel.module.js';

await bootstrapService({
  service: 'kernel',
  module: (rt) => KernelModule.forRoot(rt),
  transport: {
    // A request the pipeline could not answer still gets a protocol reply (the kernel survives):
    // a syscall reply on syscall subjects, `{error}` on the admin ones.
    fallbackReply: (err, subject) => {
      const message = String((err as Error)?.message ?? 'internal error').slice(0, 1000);
      if (!subject.includes('.v1.syscall.')) return { error: { code: ErrorCode.HANDLER_ERROR, message } };
      return {
        id: null,
        success: false,
        returnValue: null,
        errorCode: ErrorCode.HANDLER_ERROR,
        errorMessage: message,
        executionTimeMs: 0,
      };
    },
  },
});
