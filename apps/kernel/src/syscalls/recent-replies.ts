import type { SyscallReply } from '#contracts';

interface Entry {
  reply: SyscallReply;
  bytes: number;
}

/**
 * The last replies, so a retry that comes back to the same replica is answered without touching
 * the log. Bounded in bytes (a read reply can be half a megabyte), least recently used first out.
 * Only an optimisation: the recorder's idempotency keys are the guarantee, and a reply that fell
 * out is rebuilt from the log.
 */
export class RecentReplies {
  private readonly entries = new Map<string, Entry>();
  private total = 0;

  constructor(private readonly maxBytes: number) {}

  get bytes(): number {
    return this.total;
  }

  get size(): number {
    return this.entries.size;
  }

  get(agentId: string, id: string): SyscallReply | undefined {
    return this.entries.get(key(agentId, id))?.reply;
  }

  set(agentId: string, id: string, reply: SyscallReply): void {
    const k = key(agentId, id);
    const bytes = sizeOf(reply) + k.length * 2 + 64;
    if (bytes > this.maxBytes / 4) return; // one huge reply must not flush everything else
    this.remove(k);
    this.entries.set(k, { reply, bytes });
    this.total += bytes;
    while (this.total > this.maxBytes) this.remove(this.entries.keys().next().value as string);
  }

  private remove(k: string): void {
    const e = this.entries.get(k);
    if (!e) return;
    this.entries.delete(k);
    this.total -= e.bytes;
  }
}

function key(agentId: string, id: string): string {
  return `${agentId}\u0000${id}`;
}

/** Bytes the reply takes in memory, roughly: strings dominate (2 bytes a UTF-16 unit). */
function sizeOf(r: SyscallReply): number {
  const v = r.returnValue;
  const value =
    typeof v === 'string' ? v.length * 2 : v === null || typeof v !== 'object' ? 16 : JSON.stringify(v).length * 2;
  return value + (r.errorMessage?.length ?? 0) * 2 + (r.id?.length ?? 0) * 2 + 128;
}
