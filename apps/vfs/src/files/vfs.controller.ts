import { Controller, Inject, UseFilters } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { ErrorCode, Subjects, type VfsExecuteReply, type VfsStateReply } from '#contracts';
import { ApiErrorFilter, JsonBodyPipe, protocolValidationPipe } from '#runtime';
import { describeVfs, emptyVfsState, executeVfsSyscall, vfsDigest, type VfsLimits } from '#vfs-core';
import { VfsStateCache } from '../state/vfs-state.cache.js';
import { VfsExecuteDto, VfsStateDto } from './vfs-requests.dto.js';

export const VFS_LIMITS = Symbol('VFS_LIMITS');

/**
 * Internal subjects of the VFS service. `execute` decides a file syscall on the agent's VFS as of
 * the kernel's stream version and returns the result and the effect to record; the kernel
 * appends it, and this service learns the new state from the log (feed or read), never from the
 * request itself. So a reply the kernel never committed changes nothing here.
 */
@Controller()
@UseFilters(ApiErrorFilter)
export class VfsController {
  constructor(
    private readonly cache: VfsStateCache,
    @Inject(VFS_LIMITS) private readonly limits: VfsLimits,
  ) {}

  @MessagePattern(Subjects.vfsExecute, { queue: 'vfs' })
  async execute(@Payload(JsonBodyPipe, protocolValidationPipe()) q: VfsExecuteDto): Promise<VfsExecuteReply> {
    const c = await this.cache.atVersion(q.agentId, q.version);
    if (c.version > q.version) return { status: 'stale', version: c.version };
    if (c.version < q.version) {
      return {
        error: { code: ErrorCode.UNAVAILABLE, message: `version ${q.version} of ${q.agentId} is not in the log` },
      };
    }
    const o = executeVfsSyscall(c.state ?? emptyVfsState(), q.syscall, q.args, q.at, this.limits);
    if (!o.ok)
      return {
        status: 'ok',
        result: { success: false, returnValue: null, errorCode: o.code, errorMessage: o.message },
      };
    return {
      status: 'ok',
      result: { success: true, returnValue: o.returnValue ?? null, errorCode: null, errorMessage: null },
      ...(o.effect ? { effect: o.effect } : {}),
      ...(o.returned ? { returned: o.returned } : {}),
    };
  }

  @MessagePattern(Subjects.vfsState, { queue: 'vfs' })
  async state(@Payload(JsonBodyPipe, protocolValidationPipe()) q: VfsStateDto): Promise<VfsStateReply> {
    const c = await this.cache.atVersion(q.agentId, q.version ?? 0);
    const s = c.state ?? emptyVfsState();
    const listing = describeVfs(s);
    return { agentId: q.agentId, version: c.version, digest: vfsDigest(s), ...listing };
  }
}
