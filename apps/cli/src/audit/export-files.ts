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
  /** Digests, chain, count and end points are consistent and, when a public key was given, the manifest is signed by it. */
  ok: boolean;
  /**
   * Whether the export is shown to come from the holder of the key: only when a public key was
   * given and the manifest carries a valid signature by it. Without a key, anyone who can edit the
   * files can also recompute the hashes, digests and end hash, so `ok` then proves consistency only.
   */
  authenticated: boolean;
  count: number;
  fromPosition: number;
  toPosition: number;
  /** With a key: the outcome of the check (anything but `valid` fails). Without: `unsigned` or `not checked`. */
  signature: SignatureStatus | 'not checked';
  /** The key the manifest names (absent when unsigned). */
  signatureKeyId?: string;
  /** The key it was checked against. */
  expectedKeyId?: string;
  checkpoint?: 'matches' | 'does not match' | 'outside the range' | 'not reached' | 'signature invalid';
  /** Why the checkpoint signature was refused (`unsigned`, `other key`, `invalid`). */
  checkpointSignature?: Exclude<SignatureStatus, 'valid'>;
  problems: string[];
  /** Said when the result is not authenticated. */
  warning?: string;
  firstBad?: ChainProblem;
}

const REQUIRED_FILES = ['events.jsonl', 'events.csv'];

export const NOT_AUTHENTICATED =
  'the manifest signature was not checked (no --pubkey or AGENTOS_CHECKPOINT_PUBKEY): anyone who can edit the ' +
  'files can recompute the hashes, digests and end hash, so this shows the export is consistent, not who produced it';

/**
 * Offline verification of an export, with nothing but the files (and optionally the public key
 * and a checkpoint): file digests, the hash chain from startHash to endHash, the count, the
 * manifest's signature, and the checkpoint's hash at its position. When a public key is given,
 * the manifest must be signed by it: an unsigned manifest, one signed by another key, or one
 * whose signature does not verify fails. A checkpoint needs the key, as its signature is what
 * makes it worth anything.
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
  let m: ExportManifest;
  try {
    m = JSON.parse(readFileSync(manifestPath, 'utf8')) as ExportManifest;
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

  if (m.format !== 'agentos-export/v1')
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

  const chain = new ChainCheck(m.fromPosition, m.startHash);
  let firstBad: ChainProblem | undefined;
  let cpResult: ExportVerification['checkpoint'];
  let cpSignature: ExportVerification['checkpointSignature'];
  if (checkpoint && publicKey) {
    const cs = checkCheckpointSignature(checkpoint, publicKey);
    if (cs.status !== 'valid') {
      cpResult = 'signature invalid';
      cpSignature = cs.status;
      problems.push(cs.reason);
    } else if (checkpoint.position < m.fromPosition || checkpoint.position > m.toPosition)
      cpResult = 'outside the range';
  }
  const jsonlPath = path.join(dir, 'events.jsonl');
  if (!existsSync(jsonlPath)) throw new Error(`${jsonlPath} not found`);
  const lines = readline.createInterface({ input: createReadStream(jsonlPath), crlfDelay: Infinity });
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
  lines.close();
  if (!firstBad) {
    if (chain.checked !== m.count) problems.push(`the manifest says ${m.count} events, the file has ${chain.checked}`);
    if (chain.checked > 0 && chain.nextPosition - 1 !== m.toPosition)
      problems.push(
        `the manifest says the export ends at position ${m.toPosition}, the file at ${chain.nextPosition - 1}`,
      );
    if (chain.lastHash !== m.endHash) problems.push('the chain does not end at the manifest endHash');
  }
  if (checkpoint && !cpResult) cpResult = 'not reached';
  if (cpResult === 'does not match' || (cpResult === 'not reached' && !firstBad))
    problems.push(`checkpoint ${cpResult}`);
  const authenticated = signature === 'valid';
  return {
    ok: !firstBad && problems.length === 0,
    authenticated,
    count: chain.checked,
    fromPosition: m.fromPosition,
    toPosition: m.toPosition,
    signature,
    ...(sig?.keyId
      ? { signatureKeyId: sig.keyId }
      : !publicKey && m.signature?.keyId
        ? { signatureKeyId: m.signature.keyId }
        : {}),
    ...(sig ? { expectedKeyId: sig.expectedKeyId } : {}),
    ...(cpResult ? { checkpoint: cpResult } : {}),
    ...(cpSignature ? { checkpointSignature: cpSignature } : {}),
    problems,
    ...(authenticated ? {} : { warning: publicKey ? 'the export is not authenticated' : NOT_AUTHENTICATED }),
    ...(firstBad ? { firstBad } : {}),
  };
}
