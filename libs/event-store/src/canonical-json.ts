import canonicalize from 'canonicalize';

/**
 * The canonical form every hash in the log is computed over: RFC 8785 (JSON Canonicalization
 * Scheme). Keys sorted by UTF-16 code units, no insignificant whitespace, numbers in their shortest
 * ECMAScript form, strings escaped as JSON.stringify does. Stored as text and never re-serialised,
 * so the bytes that were hashed are the bytes that are kept.
 */
export function toCanonicalJson(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError('value has no JSON representation');
  return text;
}
