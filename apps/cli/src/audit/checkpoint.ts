import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import canonicalize from 'canonicalize';

/** A signed statement "the log's chain ends at `hash` at `position`", kept by a compliance team. */
export interface Checkpoint {
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

/** A key given as a PEM file path or as the PEM text itself (e.g. from a secret in the environment). */
export function loadKey(spec: string, kind: 'private' | 'public'): KeyObject {
  const pem = existsSync(spec) ? readFileSync(spec, 'utf8') : spec;
  const key = kind === 'private' ? createPrivateKey(pem) : createPublicKey(pem);
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

function signedBytes(c: Omit<Checkpoint, 'signature'>): Buffer {
  return Buffer.from(canonicalize(c) as string, 'utf8');
}

export function signCheckpoint(
  head: { position: number; hash: string; recordedAt: string | null },
  privateKey: KeyObject,
): Checkpoint {
  const body: Omit<Checkpoint, 'signature'> = {
    format: 'agentos-checkpoint/v1',
    position: head.position,
    hash: head.hash,
    recordedAt: head.recordedAt,
    createdAt: new Date().toISOString(),
    keyId: keyId(createPublicKey(privateKey)),
  };
  return { ...body, signature: sign(null, signedBytes(body), privateKey).toString('base64') };
}

/** Whether the checkpoint was signed by the holder of `publicKey` and not changed since. */
export function checkpointSignatureValid(c: Checkpoint, publicKey: KeyObject): boolean {
  const { signature, ...body } = c;
  if (c.format !== 'agentos-checkpoint/v1' || typeof signature !== 'string') return false;
  try {
    return verify(null, signedBytes(body), publicKey, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}

/** Signs any JSON document (an export manifest) the same way. */
export function signDocument<T extends object>(
  doc: T,
  privateKey: KeyObject,
): T & { signature: { keyId: string; value: string } } {
  const value = sign(null, Buffer.from(canonicalize(doc) as string, 'utf8'), privateKey).toString('base64');
  return { ...doc, signature: { keyId: keyId(createPublicKey(privateKey)), value } };
}

export function documentSignatureValid(doc: { signature?: { value: string } }, publicKey: KeyObject): boolean {
  const { signature, ...body } = doc;
  if (!signature?.value) return false;
  try {
    return verify(
      null,
      Buffer.from(canonicalize(body) as string, 'utf8'),
      publicKey,
      Buffer.from(signature.value, 'base64'),
    );
  } catch {
    return false;
  }
}
