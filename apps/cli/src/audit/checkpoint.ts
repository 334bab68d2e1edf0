import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import {
  chmodSync,
  closeSync,
  existsSync,
  fsyncSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import canonicalize from 'canonicalize';

/** A signed statement "the log's chain ends at `hash` at `position`", kept by a compliance team (a log of one partition). */
export interface CheckpointV1 {
  format: 'agentos-checkpoint/v1';
  position: number;
  hash: string;
  recordedAt: string | null;
  createdAt: string;
  /** First 16 hex of SHA-256 of the public key (DER), to find the right key. */
  keyId: string;
  /** Ed25519 over the RFC 8785 form of every other field, base64. */
  signature: string;
}

/** One partition's chain end point in a checkpoint. */
export interface CheckpointHead {
  partition: number;
  position: number;
  hash: string;
  recordedAt: string | null;
}

/**
 * A signed statement about a log of several partitions: every partition's chain end point, and
 * `digest`, the SHA-256 of their canonical text ({@link checkpointText}). One signature (over the
 * RFC 8785 form of every other field, digest included) proves the whole log up to these heads.
 */
export interface CheckpointV2 {
  format: 'agentos-checkpoint/v2';
  partitions: number;
  heads: CheckpointHead[];
  /** Lower-case hex SHA-256 of the UTF-8 bytes of checkpointText(partitions, heads). */
  digest: string;
  createdAt: string;
  keyId: string;
  signature: string;
}

export type Checkpoint = CheckpointV1 | CheckpointV2;

/**
 * The canonical text a v2 checkpoint's digest is taken over: a first line
 * `agentos-checkpoint/v2`, a second `partitions <P>`, then one line per partition in increasing
 * order, `<partition> <position> <hash>` (decimal numbers without leading zeros, the hash in
 * lower-case hex; position 0 and 64 zeros for an empty partition), every line ending in `\n`.
 */
export function checkpointText(
  partitions: number,
  heads: { partition: number; position: number; hash: string }[],
): string {
  const lines = ['agentos-checkpoint/v2', `partitions ${partitions}`];
  for (const h of [...heads].sort((a, b) => a.partition - b.partition))
    lines.push(`${h.partition} ${h.position} ${h.hash}`);
  return lines.map((l) => `${l}\n`).join('');
}

export function checkpointDigest(
  partitions: number,
  heads: { partition: number; position: number; hash: string }[],
): string {
  return createHash('sha256').update(checkpointText(partitions, heads), 'utf8').digest('hex');
}

/** Every partition's end point a checkpoint names (a v1 checkpoint: partition 0 of a one-partition log). */
export function checkpointHeads(c: Checkpoint): { partitions: number; heads: CheckpointHead[] } {
  if (c.format === 'agentos-checkpoint/v2') return { partitions: c.partitions, heads: c.heads };
  return { partitions: 1, heads: [{ partition: 0, position: c.position, hash: c.hash, recordedAt: c.recordedAt }] };
}

/** A key given as a PEM file path or as the PEM text itself (e.g. from a secret in the environment). */
export function loadKey(spec: string, kind: 'private' | 'public'): KeyObject {
  const isFile = existsSync(spec);
  if (!isFile && !spec.includes('-----BEGIN')) throw new Error(`the ${kind} key file ${spec} does not exist`);
  const pem = isFile ? readFileSync(spec, 'utf8') : spec;
  let key: KeyObject;
  try {
    key = kind === 'private' ? createPrivateKey(pem) : createPublicKey(pem);
  } catch (err) {
    throw new Error(
      `${isFile ? spec : 'the given PEM'} is not a readable ${kind} key (${err instanceof Error ? err.message : String(err)})`,
    );
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`the ${kind} key is not an Ed25519 key`);
  return key;
}

export function keyId(publicKey: KeyObject): string {
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 16);
}

export function generateCheckpointKeys(): { privatePem: string; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }) as string,
  };
}

export const PRIVATE_KEY_FILE = 'checkpoint-key.pem';
export const PUBLIC_KEY_FILE = 'checkpoint-key.pub.pem';

/** Thrown when a key file is already there and the caller did not ask to replace it. */
export class KeyExistsError extends Error {
  constructor(readonly existing: string[]) {
    super(
      `refusing to overwrite ${existing.join(' and ')}: checkpoints and exports signed with the existing key would ` +
        `no longer verify against a new public key. Use --force to replace the key pair, or choose another --out`,
    );
  }
}

function present(p: string): boolean {
  try {
    lstatSync(p); // a dangling symbolic link counts: writing through it is not what anyone wants
    return true;
  } catch {
    return false;
  }
}

function writeNew(p: string, text: string, mode: number): void {
  const fd = openSync(p, 'wx', mode);
  try {
    writeFileSync(fd, text); // loops until every byte is written
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  chmodSync(p, mode); // whatever the umask
}

/**
 * Creates a new Ed25519 pair in `dir`: the private key readable by its owner only (0600), the
 * public key 0644. Both files, or neither: each is written in full under a temporary name, then
 * both are put in place; if the second cannot be, the first is undone. Without `force`, an
 * existing file (either one) is never replaced ({@link KeyExistsError}); with `force`, the old
 * pair is replaced, and restored if the new one cannot be put in place.
 */
export function writeKeyPair(
  dir: string,
  force = false,
): { privateKey: string; publicKey: string; replaced: string[] } {
  const privateKey = path.join(dir, PRIVATE_KEY_FILE);
  const publicKey = path.join(dir, PUBLIC_KEY_FILE);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const existing = [privateKey, publicKey].filter(present);
  if (existing.length && !force) throw new KeyExistsError(existing);

  const { privatePem, publicPem } = generateCheckpointKeys();
  const tag = `${process.pid}-${randomBytes(6).toString('hex')}`;
  const pairs: { final: string; tmp: string; backup: string; text: string; mode: number }[] = [
    { final: privateKey, tmp: '', backup: '', text: privatePem, mode: 0o600 },
    { final: publicKey, tmp: '', backup: '', text: publicPem, mode: 0o644 },
  ].map((f) => ({
    ...f,
    tmp: path.join(dir, `.${path.basename(f.final)}.${tag}.tmp`),
    backup: path.join(dir, `.${path.basename(f.final)}.${tag}.old`),
  }));
  const placed: typeof pairs = [];
  const backedUp: typeof pairs = [];
  try {
    for (const f of pairs) writeNew(f.tmp, f.text, f.mode);
    if (force) {
      // keep the old files under another name until the new pair is in place
      for (const f of pairs) {
        if (!present(f.final)) continue;
        linkSync(f.final, f.backup);
        backedUp.push(f);
      }
      for (const f of pairs) {
        renameSync(f.tmp, f.final); // atomic replacement: the name never points at a half-written file
        placed.push(f);
      }
    } else {
      for (const f of pairs) {
        try {
          linkSync(f.tmp, f.final); // fails if the name was taken meanwhile: never replaces a file
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new KeyExistsError([f.final]);
          throw err;
        }
        placed.push(f);
      }
    }
  } catch (err) {
    // neither: take back what was put in place, and bring the old pair back
    for (const f of placed) rmSync(f.final, { force: true });
    for (const f of backedUp) {
      // a file not yet replaced is still the backup's other name (renaming one onto the other does nothing)
      if (present(f.final)) rmSync(f.backup, { force: true });
      else renameSync(f.backup, f.final);
    }
    throw err;
  } finally {
    for (const f of pairs) rmSync(f.tmp, { force: true });
  }
  for (const f of backedUp) rmSync(f.backup, { force: true });
  return { privateKey, publicKey, replaced: existing };
}

function signedBytes(c: object): Buffer {
  return Buffer.from(canonicalize(c) as string, 'utf8');
}

export function signCheckpoint(
  head: { position: number; hash: string; recordedAt: string | null },
  privateKey: KeyObject,
): CheckpointV1 {
  const body: Omit<CheckpointV1, 'signature'> = {
    format: 'agentos-checkpoint/v1',
    position: head.position,
    hash: head.hash,
    recordedAt: head.recordedAt,
    createdAt: new Date().toISOString(),
    keyId: keyId(createPublicKey(privateKey)),
  };
  return { ...body, signature: sign(null, signedBytes(body), privateKey).toString('base64') };
}

/** One checkpoint over every partition's head (a log of several partitions). */
export function signLogCheckpoint(
  heads: { partition?: number; position: number; hash: string; recordedAt: string | null }[],
  privateKey: KeyObject,
): CheckpointV2 {
  const list: CheckpointHead[] = heads.map((h, i) => ({
    partition: h.partition ?? i,
    position: h.position,
    hash: h.hash,
    recordedAt: h.recordedAt,
  }));
  list.sort((a, b) => a.partition - b.partition);
  const body: Omit<CheckpointV2, 'signature'> = {
    format: 'agentos-checkpoint/v2',
    partitions: list.length,
    heads: list,
    digest: checkpointDigest(list.length, list),
    createdAt: new Date().toISOString(),
    keyId: keyId(createPublicKey(privateKey)),
  };
  return { ...body, signature: sign(null, signedBytes(body), privateKey).toString('base64') };
}

/** Whether a v2 checkpoint's heads are well formed (one per partition, in order) and its digest is theirs. */
function wellFormedV2(c: Record<string, unknown>): boolean {
  const heads = c.heads;
  if (typeof c.partitions !== 'number' || !Array.isArray(heads) || heads.length !== c.partitions) return false;
  for (const [i, h] of heads.entries()) {
    if (!isRecord(h) || h.partition !== i || typeof h.position !== 'number' || typeof h.hash !== 'string') return false;
  }
  return c.digest === checkpointDigest(c.partitions, heads as CheckpointHead[]);
}

/**
 * The outcome of checking a signature against the one key the verifier trusts:
 * - `valid`: signed by that key, and not changed since;
 * - `unsigned`: there is no signature at all (anyone can write such a file: never accepted when a key is given);
 * - `other key`: the signature names another key (signed by someone else, or the key was replaced);
 * - `invalid`: the signature does not verify (the document was changed after signing, or the signature forged).
 */
export type SignatureStatus = 'valid' | 'unsigned' | 'other key' | 'invalid';

export interface SignatureCheck {
  status: SignatureStatus;
  /** keyId of the trusted key. */
  expectedKeyId: string;
  /** keyId the document claims (absent when unsigned). */
  keyId?: string;
  /** One sentence for people. */
  reason: string;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function verifyBytes(bytes: Buffer, publicKey: KeyObject, signatureBase64: string): boolean {
  try {
    return verify(null, bytes, publicKey, Buffer.from(signatureBase64, 'base64'));
  } catch {
    return false;
  }
}

function describe(what: string, status: SignatureStatus, expected: string, claimed?: string): string {
  switch (status) {
    case 'valid':
      return `the ${what} is signed by key ${expected}`;
    case 'unsigned':
      return `the ${what} is not signed, but a public key (${expected}) was given: its origin cannot be established, anyone could have written it`;
    case 'other key':
      return `the ${what} is signed by key ${claimed ?? '?'}, not by the given key ${expected}`;
    case 'invalid':
      return `the ${what} signature is not valid for key ${expected}: it was changed after signing, or the signature is forged`;
  }
}

/** Checks a checkpoint (as read from a file, so of unknown shape) against the trusted public key. */
export function checkCheckpointSignature(c: unknown, publicKey: KeyObject): SignatureCheck {
  const expectedKeyId = keyId(publicKey);
  const result = (status: SignatureStatus, claimed?: string): SignatureCheck => ({
    status,
    expectedKeyId,
    ...(claimed !== undefined ? { keyId: claimed } : {}),
    reason: describe('checkpoint', status, expectedKeyId, claimed),
  });
  if (!isRecord(c)) return result('unsigned');
  const { signature, ...body } = c;
  if (signature === undefined || signature === null || signature === '') return result('unsigned');
  const claimed = typeof body.keyId === 'string' ? body.keyId : undefined;
  if (typeof signature !== 'string') return result('invalid', claimed);
  if (body.format !== 'agentos-checkpoint/v1' && !(body.format === 'agentos-checkpoint/v2' && wellFormedV2(body)))
    return result('invalid', claimed);
  const ok = verifyBytes(signedBytes(body), publicKey, signature);
  if (ok && claimed === expectedKeyId) return result('valid', claimed);
  if (!ok && claimed !== undefined && claimed !== expectedKeyId) return result('other key', claimed);
  return result('invalid', claimed);
}

/** Whether the checkpoint was signed by the holder of `publicKey` and not changed since. */
export function checkpointSignatureValid(c: Checkpoint, publicKey: KeyObject): boolean {
  return checkCheckpointSignature(c, publicKey).status === 'valid';
}

/** Signs any JSON document (an export manifest) the same way. */
export function signDocument<T extends object>(
  doc: T,
  privateKey: KeyObject,
): T & { signature: { keyId: string; value: string } } {
  const value = sign(null, Buffer.from(canonicalize(doc) as string, 'utf8'), privateKey).toString('base64');
  return { ...doc, signature: { keyId: keyId(createPublicKey(privateKey)), value } };
}

/**
 * Checks a signed JSON document (an export manifest, as read from a file) against the trusted
 * public key. The signature covers every field but `signature`; its `keyId` must name that key.
 */
export function checkDocumentSignature(doc: unknown, publicKey: KeyObject, what = 'manifest'): SignatureCheck {
  const expectedKeyId = keyId(publicKey);
  const result = (status: SignatureStatus, claimed?: string): SignatureCheck => ({
    status,
    expectedKeyId,
    ...(claimed !== undefined ? { keyId: claimed } : {}),
    reason: describe(what, status, expectedKeyId, claimed),
  });
  if (!isRecord(doc)) return result('unsigned');
  const { signature, ...body } = doc;
  if (signature === undefined || signature === null) return result('unsigned');
  if (!isRecord(signature) || typeof signature.value !== 'string' || !signature.value) return result('invalid');
  const claimed = typeof signature.keyId === 'string' ? signature.keyId : undefined;
  const ok = verifyBytes(Buffer.from(canonicalize(body) as string, 'utf8'), publicKey, signature.value);
  if (ok && claimed === expectedKeyId) return result('valid', claimed);
  if (!ok && claimed !== undefined && claimed !== expectedKeyId) return result('other key', claimed);
  return result('invalid', claimed);
}

export function documentSignatureValid(doc: { signature?: { value: string } }, publicKey: KeyObject): boolean {
  return checkDocumentSignature(doc, publicKey).status === 'valid';
}
