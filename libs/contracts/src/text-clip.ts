/**
 * At most `max` UTF-16 units of `s`, always well-formed: a cut through a surrogate pair (or a lone
 * surrogate in the input) becomes U+FFFD. Anything recorded in the log must be, because its
 * canonical JSON (RFC 8785) and Postgres text cannot hold a lone surrogate.
 */
export function clip(s: string, max: number): string {
  return (s.length > max ? s.slice(0, max) : s).toWellFormed();
}

/** Whether the text holds a C0 control character (U+0000..U+001F) or DEL: never part of a name or key. */
export function hasControlChars(s: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u001f\u007f]/.test(s);
}
