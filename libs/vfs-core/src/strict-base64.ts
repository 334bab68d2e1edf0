export type Base64Decoding = { ok: true; bytes: Buffer } | { ok: false; message: string };

const OUTSIDE_ALPHABET = /[^A-Za-z0-9+/=]/;

/**
 * Decodes standard base64 (RFC 4648 §4) strictly: Node's decoder silently skips unknown characters
 * and accepts URL-safe letters, missing padding and non-zero padding bits, so one byte string
 * would have many spellings. Here only the canonical one is accepted: what an agent writes in
 * base64 is exactly what it reads back.
 */
export function decodeStrictBase64(s: string): Base64Decoding {
  const bad = OUTSIDE_ALPHABET.exec(s);
  if (bad) {
    const code = bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
    return { ok: false, message: `character U+${code} at index ${bad.index} is not in the base64 alphabet` };
  }
  if (s.length % 4 !== 0) return { ok: false, message: `length ${s.length} is not a multiple of 4` };
  const bytes = Buffer.from(s, 'base64');
  // Misplaced '=' or non-zero padding bits: the canonical encoding of the decoded bytes differs.
  if (bytes.toString('base64') !== s) return { ok: false, message: 'padding is misplaced or not canonical' };
  return { ok: true, bytes };
}
