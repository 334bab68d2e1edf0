import { createHash } from 'node:crypto';

/** Lower-case hex SHA-256 of a file's content. */
export function sha256Hex(content: Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

/** The seed's `content_hash`: the first 16 hex characters of SHA-256, as SYS_STAT reports it. */
export function contentHash(content: Buffer): string {
  return sha256Hex(content).slice(0, 16);
}
