/** How argument values are shown in error messages to agents: short, and always valid Unicode. */

/** The JSON type of a value, for "must be a string, got number". */
export function typeName(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'an array';
  return typeof x;
}

/** At most `max` code points of `s` (cut by code point, so no half surrogate pair ends up in the log). */
export function excerpt(s: string, max: number): string {
  if (s.length <= max) return s;
  return `${Array.from(s).slice(0, max).join('')}...`;
}
