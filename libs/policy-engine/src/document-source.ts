import type { DocumentPath, PolicyError } from './policy-error.js';

/** A parsed document and a way back from a path in it to its place in the text. */
export interface DocumentSource {
  value: unknown;
  /** Line and column of the node at `path` (its key with `at: 'key'`), or of its nearest ancestor in the text. */
  locate(path: DocumentPath, at?: 'key' | 'value'): { line?: number; column?: number };
}

export type SourceResult = { ok: true; source: DocumentSource } | { ok: false; errors: PolicyError[] };
