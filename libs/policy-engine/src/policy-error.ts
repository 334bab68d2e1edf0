/** A problem in a policy document, located: `field` is a path like `rules[2].when.operator` ('' for the document). */
export interface PolicyError {
  field: string;
  message: string;
  /** 1-based, when the problem has a place in the text. */
  line?: number;
  column?: number;
}

/** A path into the parsed document (`['rules', 2, 'when']`), before it is written as a field name. */
export type DocumentPath = readonly (string | number)[];

/** A problem found in the parsed value, not yet given its line. */
export interface Problem {
  path: DocumentPath;
  message: string;
  /** Point at the key (unknown fields) rather than at the value. */
  at?: 'key' | 'value';
  /** Locate here instead of at `path` (a missing field is shown where its parent is). */
  locateAt?: DocumentPath;
}

/** `['rules', 2, 'when', 'operator']` → `rules[2].when.operator`. */
export function fieldName(path: DocumentPath): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s ? `.${p}` : p;
  return s;
}
