import { Inject, Injectable } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  ENVELOPE_BYTES,
  Subjects,
  isApiError,
  type VfsExecuteItem,
  type VfsExecuteReply,
  type VfsItemResult,
} from '#contracts';
import type { FileAnswer } from '#kernel-core';
import { NatsRpcClient, ServiceUnavailableError } from '#messaging';
import { NATS_CONNECTION } from '#runtime';

interface Queued {
  json: string;
  resolve: (a: FileAnswer) => void;
}

export interface VfsClientSettings {
  timeoutMs: number;
}
export const VFS_CLIENT_SETTINGS = Symbol('VFS_CLIENT_SETTINGS');

/**
 * Asks the VFS service (any replica) to decide file syscalls. Those made in the same turn of the
 * event loop (many agents at once) travel as one message and one reply. The VFS changes nothing
 * itself: what it decides counts only once the kernel records it.
 */
@Injectable()
export class VfsClient {
  private queue: Queued[] = [];
  private queuedBytes = 0;
  private scheduled = false;
  private readonly maxMessageBytes: number;

  constructor(
    private readonly rpc: NatsRpcClient,
    @Inject(NATS_CONNECTION) nc: NatsConnection,
    @Inject(VFS_CLIENT_SETTINGS) private readonly settings: VfsClientSettings,
  ) {
    this.maxMessageBytes = (nc.info?.max_payload ?? 1024 * 1024) - ENVELOPE_BYTES;
  }

  execute(item: VfsExecuteItem): Promise<FileAnswer> {
    const json = JSON.stringify(item);
    return new Promise((resolve) => {
      if (this.queuedBytes + json.length > this.maxMessageBytes) this.flush();
      this.queue.push({ json, resolve });
      this.queuedBytes += json.length;
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];
    this.queuedBytes = 0;
    void this.send(batch);
  }

  private async send(batch: Queued[]): Promise<void> {
    let reply: VfsExecuteReply;
    try {
      reply = await this.rpc.requestText<VfsExecuteReply>(
        Subjects.vfsExecute,
        `{"items":[${batch.map((q) => q.json).join(',')}]}`,
        this.settings.timeoutMs,
      );
    } catch (err) {
      const message = err instanceof ServiceUnavailableError ? err.message : (err as Error).message;
      for (const q of batch) q.resolve({ kind: 'unavailable', message: `VFS unavailable: ${message}` });
      return;
    }
    if (isApiError(reply)) {
      for (const q of batch) q.resolve({ kind: 'unavailable', message: `VFS unavailable: ${reply.error.message}` });
      return;
    }
    if (!Array.isArray(reply?.results)) {
      // a VFS answering nonsense is the kernel's problem to survive, not to hide: recorded as -4
      for (const q of batch) q.resolve({ kind: 'broken', message: 'VFS replied without a result' });
      return;
    }
    batch.forEach((q, i) => q.resolve(answer(reply.results[i])));
  }
}

/** One item's result as the decision reads it; a result of no known shape is the VFS's fault (-7, not recorded). */
function answer(r: VfsItemResult | undefined): FileAnswer {
  if (!r || typeof r !== 'object') return { kind: 'unavailable', message: 'VFS unavailable: no result for this item' };
  if ('error' in r) return { kind: 'unavailable', message: `VFS unavailable: ${r.error?.message}` };
  if (r.status === 'stale') return { kind: 'stale' };
  if (r.status === 'ok' && r.result && typeof r.result.success === 'boolean') {
    return { kind: 'result', result: r.result, effect: r.effect, returned: r.returned };
  }
  return { kind: 'broken', message: 'VFS replied without a result' };
}
