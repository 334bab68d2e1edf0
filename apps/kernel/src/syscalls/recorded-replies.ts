import { Injectable } from '@nestjs/common';
import {
  EventTypes,
  agentStream,
  formatPosition,
  type ReturnedContentV2,
  type SyscallRecordedV2,
  type SyscallReply,
} from '#contracts';
import { PartitionedLog, PgEventReader, PgSnapshotStore, type RecordedEvent } from '#event-store';
import {
  applyVfsEvent,
  emptyVfsState,
  fromVfsSnapshot,
  sha256Hex,
  toVfsSnapshot,
  type VfsSnapshotV1,
  type VfsState,
} from '#vfs-core';

/**
 * Rebuilds the reply a recorded syscall gave, for a retry whose first reply is no longer cached
 * (another replica, a restart). A read records the digest of what it returned, not the content:
 * the content is read back from the agent's files as they were just before the event (the fold
 * of its stream), and must match the digest. The kernel does this itself, from the log, so a
 * known request is answered even while the VFS service is down.
 */
@Injectable()
export class RecordedReplies {
  private readonly vfsSnapshots: PgSnapshotStore<VfsState>;

  constructor(
    private readonly reader: PgEventReader,
    private readonly log: PartitionedLog,
  ) {
    this.vfsSnapshots = new PgSnapshotStore<VfsState>(log, 'vfs', 1, {
      encode: toVfsSnapshot,
      decode: (j) => fromVfsSnapshot(j as VfsSnapshotV1),
    });
  }

  /** The recorded event of request `id` of the agent, if there is one. */
  find(agentId: string, id: string): Promise<RecordedEvent | null> {
    return this.reader.findByIdempotencyKey(agentStream(agentId), `req:${id}`);
  }

  /** The reply the event gave, or null when it cannot be rebuilt (not a syscall, content gone). */
  async replyOf(agentId: string, e: RecordedEvent): Promise<SyscallReply | null> {
    if (e.type !== EventTypes.SyscallRecorded || (e.schemaVersion !== 1 && e.schemaVersion !== 2)) return null;
    const d = e.data as unknown as SyscallRecordedV2;
    if (!d || typeof d !== 'object' || !d.result) return null;
    let returnValue = d.result.returnValue ?? null;
    if (d.returned) {
      const content = await this.contentBefore(agentId, e.streamVersion, d.args?.path, d.returned);
      if (content === null) return null;
      returnValue = content;
    }
    return {
      id: d.requestId,
      success: d.result.success,
      returnValue,
      errorCode: d.result.errorCode,
      errorMessage: d.result.errorMessage,
      executionTimeMs: d.executionTimeMs,
      position: formatPosition(e.partition ?? 0, e.position, this.log.partitions),
    };
  }

  /** The file's content as of version `before - 1`, encoded as it was returned, if its digest matches. */
  private async contentBefore(
    agentId: string,
    before: number,
    path: unknown,
    returned: ReturnedContentV2,
  ): Promise<string | null> {
    if (typeof path !== 'string') return null;
    const stream = agentStream(agentId);
    const snap = await this.vfsSnapshots.load(stream).catch(() => null);
    const useSnap = snap !== null && snap.version < before;
    const state = useSnap ? snap.state : emptyVfsState();
    let from = useSnap ? snap.version + 1 : 1;
    while (from < before) {
      const page = await this.reader.readStream(stream, { fromVersion: from, toVersion: before - 1, limit: 1000 });
      if (page.length === 0) break;
      for (const ev of page) applyVfsEvent(state, ev);
      from = page[page.length - 1].streamVersion + 1;
    }
    const file = state.files.get(path);
    if (!file || sha256Hex(file.content) !== returned.sha256) return null;
    return file.content.toString(returned.encoding);
  }
}
