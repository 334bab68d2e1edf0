import { createHash } from 'node:crypto';
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  writeFileSync,
  type WriteStream,
} from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import type { KeyObject } from 'node:crypto';
import type { SyscallRecordedV1 } from '#contracts';
import { toCanonicalJson, type RecordedEvent } from '#event-store';
import { ChainCheck, type ChainProblem } from './chain-check.js';
import {
  checkCheckpointSignature,
  checkDocumentSignature,
  checkpointHeads,
  signDocument,
  type Checkpoint,
  type SignatureCheck,
  type SignatureStatus,
} from './checkpoint.js';

export interface ExportManifest {
  format: 'agentos-export/v1';
  exportedAt: string;
  fromPosition: number;
  toPosition: number;
  count: number;
  /** prevHash of the first exported event: where the exported chain starts. */
  startHash: string;
  /** hash of the last exported event: where it ends. */
  endHash: string;
  /** The log's head when the export was taken. */
  head: { position: number; hash: string };
  files: Record<string, { sha256: string; bytes: number }>;
  hashing: string;
  signature?: { keyId: string; value: string };
}

/** One partition's part of a v2 export: its contiguous range and the chain's end points (null: nothing exported). */
export interface ExportRange {
  partition: number;
  count: number;
  fromPosition: number | null;
  toPosition: number | null;
  /** prevHash of the partition's first exported event. */
  startHash: string | null;
  /** hash of its last exported event. */
  endHash: string | null;
  /** The partition's head when the export was taken. */
  head: { position: number; hash: string };
}

/**
 * An export of a log of several partitions: events.jsonl holds every partition's range in the
 * merged order (`order`), each event naming its partition; `ranges` holds each partition's end
 * points, which verification checks chain by chain.
 */
export interface ExportManifestV2 {
  format: 'agentos-export/v2';
  exportedAt: string;
  partitions: number;
  count: number;
  order: string;
  ranges: ExportRange[];
  files: Record<string, { sha256: string; bytes: number }>;
  hashing: string;
  signature?: { keyId: string; value: string };
}

export const MERGE_ORDER = 'recordedAt, then partition, then position';

const HASHING =
  'hash = sha256(utf8(canonical JSON of {data, eventId, idempotencyKey, metadata, position (decimal string), prevHash, ' +
  'recordedAt, schemaVersion, streamId, streamVersion, type})), RFC 8785 canonical form; prevHash of each event is the hash ' +
  'of the one before; see docs/event-log.md';

const HASHING_V2 =
  HASHING +
  '; each partition has its own chain (positions 1, 2, ... within the partition, its first prevHash 64 zeros), ' +
  "and every event's stream belongs to its partition (fnv1a32 of the agent id modulo the partition count)";

const CSV_COLUMNS = [
  'position',
  'recorded_at',
  'stream_id',
  'stream_version',
  'type',
  'syscall',
  'allowed',
  'shadow',
  'rule',
  'policy_version',
  'error_code',
  'event_id',
  'prev_hash',
  'hash',
  'data',
] as const;

function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function csvRow(e: RecordedEvent, partitioned: boolean): string {
  const d = e.data as unknown as Partial<SyscallRecordedV1>;
  const syscall = e.type === 'SyscallRecorded';
  return [
    ...(partitioned ? [e.partition ?? 0] : []),
    e.position,
    e.recordedAt,
    e.streamId,
    e.streamVersion,
    e.type,
    syscall ? d.syscall : '',
    syscall ? d.decision?.allowed : '',
    syscall ? d.decision?.shadow : '',
    syscall ? d.decision?.rule : '',
    syscall ? d.decision?.policyVersion : '',
    syscall ? d.result?.errorCode : '',
    e.eventId,
    e.prevHash,
    e.hash,
    toCanonicalJson(e.data),
  ]
    .map(csvCell)
    .join(',');
}

/**
 * Writes events.jsonl, events.csv and manifest.json (optionally signed) for a contiguous range of
 * each partition. With one partition the manifest is v1 (one range); with several, v2 (a range
 * per partition, events in the merged order, a `partition` column first in the CSV).
 */
export class ExportWriter {
  private readonly jsonl: WriteStream;
  private readonly csv: WriteStream;
  private readonly first: (RecordedEvent | null)[];
  private readonly last: (RecordedEvent | null)[];
  private readonly counts: number[];
  private count = 0;

  constructor(
    private readonly dir: string,
    private readonly partitions = 1,
  ) {
    mkdirSync(dir, { recursive: true });
    this.first = new Array<RecordedEvent | null>(partitions).fill(null);
    this.last = new Array<RecordedEvent | null>(partitions).fill(null);
    this.counts = new Array<number>(partitions).fill(0);
    this.jsonl = createWriteStream(path.join(dir, 'events.jsonl'));
    this.csv = createWriteStream(path.join(dir, 'events.csv'));
    this.csv.write((partitions > 1 ? ['partition', ...CSV_COLUMNS] : CSV_COLUMNS).join(',') + '\n');
  }

  write(e: RecordedEvent): void {
    const p = this.partitions > 1 ? (e.partition ?? 0) : 0;
    if (p >= this.partitions)
      throw new Error(`the event at ${p}:${e.position} names a partition the log does not have`);
    const last = this.last[p];
    if (last && e.position !== last.position + 1)
      throw new Error(
        `export must be contiguous: ${this.partitions > 1 ? `partition ${p}: ` : ''}${last.position} then ${e.position}`,
      );
    this.first[p] ??= e;
    this.last[p] = e;
    this.counts[p] += 1;
    this.count += 1;
    this.jsonl.write(JSON.stringify(e) + '\n');
    this.csv.write(csvRow(e, this.partitions > 1) + '\n');
  }

  private async close(): Promise<ExportManifest['files']> {
    await Promise.all([new Promise((r) => this.jsonl.end(r)), new Promise((r) => this.csv.end(r))]);
    if (this.count === 0) throw new Error('nothing to export in that range');
    const files: ExportManifest['files'] = {};
    for (const f of ['events.jsonl', 'events.csv']) {
      const bytes = readFileSync(path.join(this.dir, f));
      files[f] = { sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length };
    }
    return files;
  }

  private save<T extends object>(manifest: T, key?: KeyObject): T {
    const signed = key ? signDocument(manifest, key) : manifest;
    writeFileSync(path.join(this.dir, 'manifest.json'), JSON.stringify(signed, null, 2) + '\n');
    return signed;
  }

  /** Finishes a one-partition export (manifest v1). */
  async finish(head: { position: number; hash: string }, key?: KeyObject): Promise<ExportManifest> {
    const files = await this.close();
    const first = this.first[0]!;
    const last = this.last[0]!;
    return this.save<ExportManifest>(
      {
        format: 'agentos-export/v1',
        exportedAt: new Date().toISOString(),
        fromPosition: first.position,
        toPosition: last.position,
        count: this.count,
        startHash: first.prevHash,
        endHash: last.hash,
        head,
        files,
        hashing: HASHING,
      },
      key,
    );
  }

  /** Finishes an export of several partitions (manifest v2), given every partition's head. */
  async finishPartitioned(heads: { position: number; hash: string }[], key?: KeyObject): Promise<ExportManifestV2> {
    const files = await this.close();
    const ranges: ExportRange[] = heads.map((h, p) => {
      const first = this.first[p];
      const last = this.last[p];
      return {
        partition: p,
        count: this.counts[p],
        fromPosition: first?.position ?? null,
        toPosition: last?.position ?? null,
        startHash: first?.prevHash ?? null,
        endHash: last?.hash ?? null,
        head: { position: h.position, hash: h.hash },
      };
    });
    return this.save<ExportManifestV2>(
      {
        format: 'agentos-export/v2',
        exportedAt: new Date().toISOString(),
        partitions: this.partitions,
        count: this.count,
        order: MERGE_ORDER,
        ranges,
        files,
        hashing: HASHING_V2,
      },
      key,
    );
  }
}
export interface ExportVerification {
  /** Digests, chain, count and end points are consistent and, when a public key was given, the manifest is signed by it. */
  ok: boolean;
  /**
   * Whether the export is shown to come from the holder of the key: only when a public key was
   * given and the manifest carries a valid signature by it. Without a key, anyone who can edit the
   * files can also recompute the hashes, digests and end hash, so `ok` then proves consistency only.
   */
  authenticated: boolean;
  count: number;
  /** The exported range (v1); null for an export of several partitions (see `ranges`). */
  fromPosition: number | null;
  toPosition: number | null;
  /** An export of several partitions: the count, and each partition's range as verified. */
  partitions?: number;
  ranges?: { partition: number; count: number; fromPosition: number | null; toPosition: number | null; ok: boolean }[];
  /** With a key: the outcome of the check (anything but `valid` fails). Without: `unsigned` or `not checked`. */
  signature: SignatureStatus | 'not checked';
  /** The key the manifest names (absent when unsigned). */
  signatureKeyId?: string;
  /** The key it was checked against. */
  expectedKeyId?: string;
  checkpoint?: 'matches' | 'does not match' | 'outside the range' | 'not reached' | 'signature invalid';
  /** Why the checkpoint signature was refused (`unsigned`, `other key`, `invalid`). */
  checkpointSignature?: Exclude<SignatureStatus, 'valid'>;
  /** Partitions whose checkpoint head is in the export and does not match (several partitions). */
  checkpointPartitions?: number[];
  problems: string[];
  /** Said when the result is not authenticated. */
  warning?: string;
  firstBad?: ChainProblem;
}

const REQUIRED_FILES = ['events.jsonl', 'events.csv'];

export const NOT_AUTHENTICATED =
  'the manifest signature was not checked (no --pubkey or AGENTOS_CHECKPOINT_PUBKEY): anyone who can edit the ' +
  'files can recompute the hashes, digests and end hash, so this shows the export is consistent, not who produced it';

type AnyManifest = ExportManifest | ExportManifestV2;

/**
 * Offline verification of an export, with nothing but the files (and optionally the public key
 * and a checkpoint): file digests, the hash chain from startHash to endHash (of each partition,
 * for an export of several), the count, the manifest's signature, and the checkpoint's hash at
 * its position (each partition's). When a public key is given, the manifest must be signed by it:
 * an unsigned manifest, one signed by another key, or one whose signature does not verify fails.
 * A checkpoint needs the key, as its signature is what makes it worth anything.
 */
export async function verifyExport(
  dir: string,
  publicKey?: KeyObject,
  checkpoint?: Checkpoint,
): Promise<ExportVerification> {
  if (checkpoint && !publicKey)
    throw new Error('--pubkey (or AGENTOS_CHECKPOINT_PUBKEY) is needed to check the checkpoint signature');
  const manifestPath = path.join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) throw new Error(`${manifestPath} not found`);
  let m: AnyManifest;
  try {
    m = JSON.parse(readFileSync(manifestPath, 'utf8')) as AnyManifest;
  } catch {
    throw new Error(`${manifestPath} is not JSON`);
  }
  if (typeof m !== 'object' || m === null || Array.isArray(m)) throw new Error(`${manifestPath} is not a manifest`);
  const problems: string[] = [];

  // who wrote it: checked first, and failing on its own whatever the rest says
  let signature: ExportVerification['signature'];
  let sig: SignatureCheck | undefined;
  if (publicKey) {
    sig = checkDocumentSignature(m, publicKey);
    signature = sig.status;
    if (sig.status !== 'valid') problems.push(sig.reason);
  } else signature = m.signature ? 'not checked' : 'unsigned';

  const v2 = m.format === 'agentos-export/v2';
  if (m.format !== 'agentos-export/v1' && !v2)
    problems.push(`the manifest format is ${JSON.stringify(m.format)}, not agentos-export/v1`);
  const files = typeof m.files === 'object' && m.files !== null ? m.files : {};
  for (const name of REQUIRED_FILES) if (!(name in files)) problems.push(`the manifest has no digest for ${name}`);
  for (const [name, f] of Object.entries(files)) {
    const p = path.join(dir, name);
    if (path.dirname(path.resolve(p)) !== path.resolve(dir)) {
      problems.push(`the manifest names a file outside the export: ${name}`);
      continue;
    }
    if (!existsSync(p)) {
      problems.push(`${name} is missing`);
      continue;
    }
    const digest = createHash('sha256').update(readFileSync(p)).digest('hex');
    if (digest !== f?.sha256) problems.push(`${name} does not match its digest in the manifest`);
  }

  let cpResult: ExportVerification['checkpoint'];
  let cpSignature: ExportVerification['checkpointSignature'];
  if (checkpoint && publicKey) {
    const cs = checkCheckpointSignature(checkpoint, publicKey);
    if (cs.status !== 'valid') {
      cpResult = 'signature invalid';
      cpSignature = cs.status;
      problems.push(cs.reason);
    }
  }
  const jsonlPath = path.join(dir, 'events.jsonl');
  if (!existsSync(jsonlPath)) throw new Error(`${jsonlPath} not found`);
  const chains = v2
    ? await checkPartitionedFile(jsonlPath, m as ExportManifestV2, cpResult ? undefined : checkpoint, problems)
    : await checkFile(jsonlPath, m as ExportManifest, cpResult ? undefined : checkpoint, problems);
  cpResult ??= chains.checkpoint;
  const firstBad = chains.firstBad;
  if (checkpoint && !cpResult) cpResult = 'not reached';
  if (cpResult === 'does not match' || (cpResult === 'not reached' && !firstBad))
    problems.push(`checkpoint ${cpResult}`);
  const authenticated = signature === 'valid';
  return {
    ok: !firstBad && problems.length === 0,
    authenticated,
    count: chains.count,
    fromPosition: v2 ? null : (m as ExportManifest).fromPosition,
    toPosition: v2 ? null : (m as ExportManifest).toPosition,
    ...(v2 ? { partitions: (m as ExportManifestV2).partitions, ranges: chains.ranges } : {}),
    signature,
    ...(sig?.keyId
      ? { signatureKeyId: sig.keyId }
      : !publicKey && m.signature?.keyId
        ? { signatureKeyId: m.signature.keyId }
        : {}),
    ...(sig ? { expectedKeyId: sig.expectedKeyId } : {}),
    ...(cpResult ? { checkpoint: cpResult } : {}),
    ...(cpSignature ? { checkpointSignature: cpSignature } : {}),
    ...(chains.checkpointPartitions?.length ? { checkpointPartitions: chains.checkpointPartitions } : {}),
    problems,
    ...(authenticated ? {} : { warning: publicKey ? 'the export is not authenticated' : NOT_AUTHENTICATED }),
    ...(firstBad ? { firstBad } : {}),
  };
}

interface FileCheck {
  count: number;
  firstBad?: ChainProblem;
  checkpoint?: ExportVerification['checkpoint'];
  checkpointPartitions?: number[];
  ranges?: ExportVerification['ranges'];
}

async function* fileEvents(jsonlPath: string): AsyncGenerator<RecordedEvent | null> {
  const lines = readline.createInterface({ input: createReadStream(jsonlPath), crlfDelay: Infinity });
  try {
    for await (const line of lines) {
      if (!line.trim()) continue;
      try {
        yield JSON.parse(line) as RecordedEvent;
      } catch {
        yield null; // not JSON
      }
    }
  } finally {
    lines.close();
  }
}

/** A v1 export: one chain from startHash to endHash. */
async function checkFile(
  jsonlPath: string,
  m: ExportManifest,
  checkpoint: Checkpoint | undefined,
  problems: string[],
): Promise<FileCheck> {
  const chain = new ChainCheck(m.fromPosition, m.startHash);
  let firstBad: ChainProblem | undefined;
  let cpResult: ExportVerification['checkpoint'];
  const cp = checkpoint ? checkpointHeads(checkpoint) : undefined;
  if (cp && cp.partitions !== 1) {
    cpResult = 'does not match';
    problems.push(`the checkpoint covers ${cp.partitions} partitions, the export one`);
  } else if (cp && (cp.heads[0].position < m.fromPosition || cp.heads[0].position > m.toPosition))
    cpResult = 'outside the range';
  for await (const e of fileEvents(jsonlPath)) {
    if (e === null) {
      firstBad ??= { position: chain.nextPosition, reason: 'hash_mismatch', actual: 'not JSON' };
      break;
    }
    const problem = chain.check(e);
    if (problem) {
      firstBad = problem;
      break;
    }
    if (cp && !cpResult && e.position === cp.heads[0].position)
      cpResult = e.hash === cp.heads[0].hash ? 'matches' : 'does not match';
  }
  if (!firstBad) {
    if (chain.checked !== m.count) problems.push(`the manifest says ${m.count} events, the file has ${chain.checked}`);
    if (chain.checked > 0 && chain.nextPosition - 1 !== m.toPosition)
      problems.push(
        `the manifest says the export ends at position ${m.toPosition}, the file at ${chain.nextPosition - 1}`,
      );
    if (chain.lastHash !== m.endHash) problems.push('the chain does not end at the manifest endHash');
  }
  return { count: chain.checked, firstBad, checkpoint: cpResult };
}

/**
 * A v2 export: each partition's events form a chain from its range's startHash to its endHash,
 * every event's stream belongs to its partition, and the file is in the merged order.
 */
async function checkPartitionedFile(
  jsonlPath: string,
  m: ExportManifestV2,
  checkpoint: Checkpoint | undefined,
  problems: string[],
): Promise<FileCheck> {
  const partitions = Number.isInteger(m.partitions) && m.partitions > 0 ? m.partitions : 0;
  const ranges = Array.isArray(m.ranges) ? m.ranges : [];
  if (ranges.length !== partitions || ranges.some((r, i) => r?.partition !== i))
    problems.push(`the manifest does not list one range per partition, in order (${partitions} partitions)`);
  const chains = ranges.map((r, p) =>
    r.fromPosition === null ? null : new ChainCheck(r.fromPosition, r.startHash ?? '', p, partitions),
  );
  const cp = checkpoint ? checkpointHeads(checkpoint) : undefined;
  const cpFound = new Map<number, boolean>(); // partition → its head's hash matched
  if (cp && cp.partitions !== partitions)
    problems.push(`the checkpoint covers ${cp.partitions} partition(s), the export ${partitions}`);
  let firstBad: ChainProblem | undefined;
  let count = 0;
  let previous: { t: string; p: number; pos: number } | null = null;
  let outOfOrder = false;
  for await (const e of fileEvents(jsonlPath)) {
    if (e === null) {
      firstBad = { position: 0, reason: 'hash_mismatch', actual: 'not JSON' };
      break;
    }
    const p = e.partition;
    const chain = typeof p === 'number' ? chains[p] : undefined;
    if (typeof p !== 'number' || !chain) {
      firstBad = {
        ...(typeof p === 'number' ? { partition: p } : {}),
        position: e.position,
        reason: 'missing',
        actual: `an event of partition ${String(p)}, which the manifest exports nothing of`,
      };
      break;
    }
    const problem = chain.check(e);
    if (problem) {
      firstBad = problem;
      break;
    }
    count += 1;
    const key = { t: e.recordedAt, p, pos: e.position };
    if (previous && (key.t < previous.t || (key.t === previous.t && key.p < previous.p))) outOfOrder = true;
    previous = key;
    const head = cp?.heads[p];
    if (head && cp!.partitions === partitions && e.position === head.position) cpFound.set(p, e.hash === head.hash);
  }
  const checked = ranges.map((r, p) => {
    const chain = chains[p];
    const n = chain?.checked ?? 0;
    let ok = true;
    if (!firstBad) {
      const where = `partition ${p}`;
      if (n !== r.count) {
        problems.push(`${where}: the manifest says ${r.count} events, the file has ${n}`);
        ok = false;
      }
      if (chain && n > 0 && chain.nextPosition - 1 !== r.toPosition) {
        problems.push(
          `${where}: the manifest says the range ends at ${r.toPosition}, the file at ${chain.nextPosition - 1}`,
        );
        ok = false;
      }
      if (chain && chain.lastHash !== r.endHash) {
        problems.push(`${where}: the chain does not end at the manifest endHash`);
        ok = false;
      }
    }
    return { partition: p, count: n, fromPosition: r.fromPosition, toPosition: r.toPosition, ok: ok && !firstBad };
  });
  if (!firstBad && count !== m.count) problems.push(`the manifest says ${m.count} events, the file has ${count}`);
  if (outOfOrder) problems.push(`events.jsonl is not in the merged order (${MERGE_ORDER})`);
  let cpResult: ExportVerification['checkpoint'];
  const mismatched = [...cpFound].filter(([, ok]) => !ok).map(([p]) => p);
  if (cp) {
    if (cp.partitions !== partitions || mismatched.length) cpResult = 'does not match';
    else if (cpFound.size === partitions) cpResult = 'matches';
    else {
      // a head outside a partition's exported range cannot be checked here
      const inside = cp.heads.filter((h) => {
        const r = ranges[h.partition];
        return r?.fromPosition != null && h.position >= r.fromPosition && h.position <= (r.toPosition ?? 0);
      });
      cpResult = inside.length > cpFound.size ? 'not reached' : 'outside the range';
    }
  }
  return {
    count,
    firstBad,
    checkpoint: cpResult,
    checkpointPartitions: mismatched,
    ranges: checked,
  };
}
