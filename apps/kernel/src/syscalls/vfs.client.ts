import { Injectable } from '@nestjs/common';
import {
  Subjects,
  type ReturnedContentV2,
  type SyscallResultV1,
  type VfsEffectV1,
  type VfsExecuteReply,
  type VfsExecuteRequest,
} from '#contracts';
import { NatsRpcClient, ServiceUnavailableError } from '#messaging';

export type VfsCallResult =
  | { kind: 'result'; result: SyscallResultV1; effect?: VfsEffectV1; returned?: ReturnedContentV2 }
  | { kind: 'stale' }
  | { kind: 'unavailable'; message: string };

/** Asks the VFS service (any replica) to execute a file syscall. It changes nothing itself. */
@Injectable()
export class VfsClient {
  constructor(private readonly rpc: NatsRpcClient) {}

  async execute(req: VfsExecuteRequest, timeoutMs = 5000): Promise<VfsCallResult> {
    let reply: VfsExecuteReply;
    try {
      reply = await this.rpc.request<VfsExecuteReply>(Subjects.vfsExecute, req, timeoutMs);
    } catch (err) {
      if (err instanceof ServiceUnavailableError)
        return { kind: 'unavailable', message: `VFS unavailable: ${err.message}` };
      throw err;
    }
    if (reply && typeof reply === 'object' && 'error' in reply) {
      return { kind: 'unavailable', message: `VFS unavailable: ${reply.error?.message}` };
    }
    if (reply?.status === 'stale') return { kind: 'stale' };
    if (reply?.status !== 'ok' || typeof reply.result?.success !== 'boolean') {
      // A misbehaving VFS is the kernel's problem to survive, not to hide: the caller records -4.
      throw new Error('VFS replied without a result');
    }
    return { kind: 'result', result: reply.result, effect: reply.effect, returned: reply.returned };
  }
}
