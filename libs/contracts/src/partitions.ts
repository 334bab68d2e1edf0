/**
 * A log of P partitions: each has its own positions, head, hash chain and writer. An agent's
 * stream lives in the partition its id hashes to; the system streams (`$policy`, `$tools`) live in
 * partition 0, the home partition. With one partition (the default) nothing of this shows.
 */

/** FNV-1a, 32 bits: stable across processes, releases and languages (documented in docs/event-log.md). */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * The partition of a stream: an agent's by the hash of its id, a policy fence's (`$policy@<p>`) is
 * p, every other stream's is 0.
 */
export function partitionOf(streamId: string, partitions: number): number {
  if (partitions <= 1) return 0;
  if (streamId.startsWith('agent:')) return fnv1a32(streamId.slice('agent:'.length)) % partitions;
  if (streamId.startsWith('$policy@')) {
    const p = /^[1-9]\d{0,2}$/.test(streamId.slice('$policy@'.length)) ? Number(streamId.slice('$policy@'.length)) : 0;
    return p < partitions ? p : 0;
  }
  return 0;
}

/** The partition of an agent. */
export function agentPartition(agentId: string, partitions: number): number {
  return partitions <= 1 ? 0 : fnv1a32(agentId) % partitions;
}

/**
 * A position as replies, events and the command line show it: the decimal offset with one
 * partition (as logs always read), `<partition>:<offset>` with several.
 */
export function formatPosition(partition: number, offset: number, partitions: number): string {
  return partitions <= 1 ? String(offset) : `${partition}:${offset}`;
}

/** `42` (partition 0) or `3:42`, or null when the text is neither. */
export function parsePosition(text: string): { partition: number; offset: number } | null {
  const m = /^(?:(\d{1,4}):)?(\d{1,16})$/.exec(text);
  if (!m) return null;
  const offset = Number(m[2]);
  if (!Number.isSafeInteger(offset)) return null;
  return { partition: m[1] === undefined ? 0 : Number(m[1]), offset };
}

/**
 * The stream that fences decisions in a partition: `$policy` itself in the home partition, and
 * `$policy@<p>` elsewhere, where the policy service copies each activation (PolicyFence events).
 * A decision is appended only if its partition's fence is still at the activation it used, so in
 * every partition's order each decision follows the policy switch it was made under.
 */
export function policyFenceStream(partition: number): string {
  return partition === 0 ? '$policy' : `$policy@${partition}`;
}

/** Largest partition count a log may be created with. */
export const MAX_PARTITIONS = 256;

/** `0-1,3` → [0, 1, 3]: partition numbers, ranges and comma lists (config values). */
export function parsePartitionList(spec: string): number[] {
  const out: number[] = [];
  for (const part of spec.split(',').map((s) => s.trim())) {
    const m = /^(\d{1,3})(?:-(\d{1,3}))?$/.exec(part);
    if (!m) throw new Error(`'${part}' is not a partition number or range`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) throw new Error(`range '${part}' runs backwards`);
    if (b >= MAX_PARTITIONS) throw new Error(`partition ${b} is beyond the largest log (${MAX_PARTITIONS})`);
    for (let p = a; p <= b; p++) out.push(p);
  }
  return out;
}
