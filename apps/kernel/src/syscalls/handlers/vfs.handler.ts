import { Injectable } from '@nestjs/common';
import type { VfsSyscallName } from '#contracts';
import { VfsClient } from '../vfs.client.js';
import { outcome, type HandlerContext, type HandlerOutcome } from '../syscall-outcome.js';

/** SYS_OPEN, SYS_CLOSE, SYS_READ, SYS_WRITE, SYS_STAT: executed by the VFS service at our version. */
@Injectable()
export class VfsHandler {
  constructor(private readonly vfs: VfsClient) {}

  async execute(c: HandlerContext): Promise<HandlerOutcome> {
    const r = await this.vfs.execute({
      agentId: c.agentId,
      version: c.state.version,
      syscall: c.syscall as VfsSyscallName,
      args: c.args,
      at: c.at,
    });
    if (r.kind === 'stale')
      return { ...outcome({ success: false, returnValue: null, errorCode: null, errorMessage: null }), stale: true };
    if (r.kind === 'unavailable') {
      return {
        ...outcome({ success: false, returnValue: null, errorCode: null, errorMessage: null }),
        unavailable: r.message,
      };
    }
    return outcome(r.result, {
      ...(r.effect ? { vfs: r.effect } : {}),
      ...(r.returned ? { returned: r.returned } : {}),
    });
  }
}
