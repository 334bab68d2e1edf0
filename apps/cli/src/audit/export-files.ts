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
import { checkpointSignatureValid, documentSignatureValid, signDocument, type Checkpoint } from './checkpoint.js';

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

const HASHING =
  'hash = sha256(utf8(canonical JSON of {data, eventId, idempotencyKey, metadata, position (decimal string), prevHash, ' +
  'recordedAt, schemaVersion, streamId, streamVersion, type})), RFC 8785 canonical form; prevHash of each event is the hash ' +
  'of the one before; see docs/event-log.md';

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

function csvRow(e: RecordedEvent): string {
  const d = e.data as unknown as Partial<SyscallRecordedV1>;
  const syscall = e.type === 'SyscallRecorded';
  return [
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

/** Writes events.jsonl, events.csv and manifest.json (optionally signed) for a contiguous range. */
export class ExportWriter {
  private readonly jsonl: WriteStream;
  private readonly csv: WriteStream;
  private first: RecordedEvent | null = null;
  private last: RecordedEvent | null = null;
  private count = 0;

  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
    this.jsonl = createWriteStream(path.join(dir, 'events.jsonl'));
    this.csv = createWriteStream(path.join(dir, 'events.csv'));
    this.csv.write(CSV_COLUMNS.join(',') + '\n');
  }

  write(e: RecordedEvent): void {
    if (this.last && e.position !== this.last.position + 1)
      throw new Error(`export must be contiguous: ${this.last.position} then ${e.position}`);
    this.first ??= e;
    this.last = e;
    this.count += 1;
    this.jsonl.write(JSON.stringify(e) + '\n');
    this.csv.write(csvRow(e) + '\n');
  }

  async finish(head: { position: number; hash: string }, key?: KeyObject): Promise<ExportManifest> {
    await Promise.all([new Promise((r) => this.jsonl.end(r)), new Promise((r) => this.csv.end(r))]);
    if (!this.first || !this.last) throw new Error('nothing to export in that range');
    const files: ExportManifest['files'] = {};
    for (const f of ['events.jsonl', 'events.csv']) {
      const bytes = readFileSync(path.join(this.dir, f));
      files[f] = { sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length };
    }
    let manifest: ExportManifest = {
      format: 'agentos-export/v1',
      exportedAt: new Date().toISOString(),
      fromPosition: this.first.position,
      toPosition: this.last.position,
      count: this.count,
      startHash: this.first.prevHash,
      endHash: this.last.hash,
      head,
      files,
      hashing: HASHING,
    };
    if (key) manifest = signDocument(manifest, key);
    writeFileSync(path.join(this.dir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
    return manifest;
  }
}

export interface ExportVerification {
  ok: boolean;
  count: number;
  fromPosition: number;
  toPosition: number;
  signature: 'valid' | 'invalid' | 'unsigned' | 'not checked';
  checkpoint?: 'matches' | 'does not match' | 'outside the range' | 'signature invalid';
  problems: string[];
  firstBad?: ChainProblem;
}

/**
 * Offline verification of an export, with nothing but the files (and optionally the public key
 * and a checkpoint): file digests, the hash chain from startHash to endHash, the count, the
 * manifest's signature, and the checkpoint's hash at its position.
 */
export async function verifyExport(
  dir: string,
  publicKey?: KeyObject,
  checkpoint?: Checkpoint,
): Promise<ExportVerification> {
  const manifestPath = path.join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) throw new Error(`${manifestPath} not found`);
  const m = JSON.parse(readFileSync(manifestPath, 'utf8')) as ExportManifest;
  const problems: string[] = [];
  for (const [name, f] of Object.entries(m.files ?? {})) {
    const p = path.join(dir, name);
    if (!existsSync(p)) {
      problems.push(`${name} is missing`);
      continue;
    }
    const digest = createHash('sha256').update(readFileSync(p)).digest('hex');
    if (digest !== f.sha256) problems.push(`${name} does not match its digest in the manifest`);
  }
  const signature = !m.signature
    ? 'unsigned'
    : publicKey
      ? documentSignatureValid(m, publicKey)
        ? 'valid'
        : 'invalid'
      : 'not checked';
  if (signature === 'invalid') problems.push('the manifest signature is not valid for this key');

  const chain = new ChainCheck(m.fromPosition, m.startHash);
  let firstBad: ChainProblem | undefined;
  let cpResult: ExportVerification['checkpoint'];
  if (checkpoint) {
    if (publicKey && !checkpointSignatureValid(checkpoint, publicKey)) cpResult = 'signature invalid';
    else if (checkpoint.position < m.fromPosition || checkpoint.position > m.toPosition) cpResult = 'outside the range';
  }
  const lines = readline.createInterface({
    input: createReadStream(path.join(dir, 'events.jsonl')),
    crlfDelay: Infinity,
  });
  for await (const line of lines) {
    if (!line.trim()) continue;
    let e: RecordedEvent;
    try {
      e = JSON.parse(line) as RecordedEvent;
    } catch {
      firstBad ??= { position: chain.nextPosition, reason: 'hash_mismatch', actual: 'not JSON' };
      break;
    }
    const problem = chain.check(e);
    if (problem) {
      firstBad = problem;
      break;
    }
    if (checkpoint && !cpResult && e.position === checkpoint.position)
      cpResult = e.hash === checkpoint.hash ? 'matches' : 'does not match';
  }
  if (!firstBad) {
    if (chain.checked !== m.count) problems.push(`the manifest says ${m.count} events, the file has ${chain.checked}`);
    if (chain.lastHash !== m.endHash) problems.push('the chain does not end at the manifest endHash');
  }
  if (cpResult === 'does not match' || cpResult === 'signature invalid') problems.push(`checkpoint ${cpResult}`);
  return {
    ok: !firstBad && problems.length === 0,
    count: chain.checked,
    fromPosition: m.fromPosition,
    toPosition: m.toPosition,
    signature,
    ...(cpResult ? { checkpoint: cpResult } : {}),
    problems,
    ...(firstBad ? { firstBad } : {}),
  };
}
