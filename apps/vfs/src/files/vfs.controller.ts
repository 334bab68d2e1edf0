import { Controller, Inject, UseFilters } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  AGENT_ID_PATTERN,
  ErrorCode,
  ProtocolError,
  Subjects,
  isVfsSyscall,
  type FilesBase,
  type VfsExecuteItem,
  type VfsExecuteReply,
  type VfsItemResult,
  type VfsStateReply,
} from '#contracts';
import { ApiErrorFilter, JsonBodyPipe, parseJsonBody } from '#runtime';
import { describeVfs, executeVfsSyscall, vfsDigest, type VfsLimits } from '#vfs-core';
import { AgentFilesCache, type Prepared } from './agent-files.cache.js';

export const VFS_LIMITS = Symbol('VFS_LIMITS');

/**
 * Internal subjects of the VFS service. `execute` decides file syscalls (of many agents, one
 * message from a kernel) on each agent's files as of the base the kernel names, and returns the
 * results and the effects to record; the kernel appends them, and this service learns they were
 * recorded when a later base names them. A reply the kernel never committed changes nothing here.
 */
@Controller()
@UseFilters(ApiErrorFilter)
export class VfsController {
  constructor(
    private readonly files: AgentFilesCache,
    @Inject(VFS_LIMITS) private readonly limits: VfsLimits,
  ) {}

  @MessagePattern(Subjects.vfsExecute, { queue: 'vfs' })
  async execute(@Payload() raw: Uint8Array): Promise<VfsExecuteReply> {
    // a batch is bounded by NATS's max_payload, each item by the kernel's request limit
    const items = parseJsonBody(raw, Number.MAX_SAFE_INTEGER).items;
    if (!Array.isArray(items) || items.length > 10_000) {
      throw new ProtocolError(ErrorCode.INVALID_REQUEST, 'items must be an array of at most 10000 file syscalls');
    }
    return { results: await Promise.all(items.map((i: unknown) => this.one(i))) };
  }

  @MessagePattern(Subjects.vfsState, { queue: 'vfs' })
  async state(@Payload(JsonBodyPipe) body: Record<string, unknown>): Promise<VfsStateReply> {
    const agentId = body.agentId;
    if (typeof agentId !== 'string' || !AGENT_ID_PATTERN.test(agentId) || !isBase(body.base)) {
      throw new ProtocolError(ErrorCode.INVALID_REQUEST, 'invalid request: {agentId, base: {version, eventId}}');
    }
    const p = await this.files.use(agentId, body.base, (p) =>
      p.ok ? { agentId, base: p.base, digest: vfsDigest(p.state), ...describeVfs(p.state) } : p,
    );
    if ('stale' in p)
      throw new ProtocolError(ErrorCode.UNAVAILABLE, `the VFS knows later files (${p.stale.version}); reload`);
    return p;
  }

  private async one(raw: unknown): Promise<VfsItemResult> {
    const item = asItem(raw);
    if (!item) return { error: { code: ErrorCode.INVALID_REQUEST, message: 'not a file syscall item' } };
    try {
      return await this.files.use(item.agentId, item.base, (p) => this.decide(item, p));
    } catch (err) {
      return { error: { code: ErrorCode.UNAVAILABLE, message: `VFS: ${(err as Error).message}` } };
    }
  }

  /** Decides one file syscall on the files as of its base (under the agent's turn in the cache). */
  private decide(item: VfsExecuteItem, p: Prepared): VfsItemResult {
    if (!p.ok) return { status: 'stale', base: p.stale };
    const o = executeVfsSyscall(p.state, item.syscall, item.args, item.at, this.limits);
    if (!o.ok) {
      return {
        status: 'ok',
        result: { success: false, returnValue: null, errorCode: o.code, errorMessage: o.message },
      };
    }
    if (o.effect) {
      this.files.decided(item.agentId, item.eventId, {
        base: p.base,
        version: item.version,
        effect: o.effect,
        args: item.args,
        at: item.at,
      });
    }
    return {
      status: 'ok',
      result: { success: true, returnValue: o.returnValue ?? null, errorCode: null, errorMessage: null },
      ...(o.effect ? { effect: o.effect } : {}),
      ...(o.returned ? { returned: o.returned } : {}),
    };
  }
}

/** The item's shape, checked by hand: this is the hot internal path (no reflection, no copies). */
function asItem(x: unknown): VfsExecuteItem | null {
  if (x === null || typeof x !== 'object') return null;
  const i = x as Record<string, unknown>;
  if (typeof i.agentId !== 'string' || !AGENT_ID_PATTERN.test(i.agentId)) return null;
  if (!isBase(i.base) || typeof i.eventId !== 'string' || !Number.isSafeInteger(i.version)) return null;
  if (typeof i.syscall !== 'string' || !isVfsSyscall(i.syscall)) return null;
  if (i.args === null || typeof i.args !== 'object' || Array.isArray(i.args)) return null;
  if (typeof i.at !== 'string' || Number.isNaN(Date.parse(i.at))) return null;
  return i as unknown as VfsExecuteItem;
}

function isBase(x: unknown): x is FilesBase {
  if (x === null || typeof x !== 'object') return false;
  const b = x as Record<string, unknown>;
  return (
    Number.isSafeInteger(b.version) &&
    (b.version as number) >= 0 &&
    (b.eventId === null || typeof b.eventId === 'string')
  );
}
