import { isMap, LineCounter, parseDocument, type Document, type YAMLError } from 'yaml';
import type { SourceResult } from './document-source.js';
import type { DocumentPath, PolicyError } from './policy-error.js';
import { POLICY_LIMITS } from './policy-limits.js';

/**
 * Reads YAML strictly: one document, unique keys, no unresolved tags (yaml's warnings are
 * errors here), and aliases expanded only up to POLICY_LIMITS.maxAliases (alias bombs).
 */
export function readYaml(text: string): SourceResult {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, strict: true, prettyErrors: false });
  const problems = [...doc.errors, ...doc.warnings];
  if (problems.length > 0)
    return { ok: false, errors: problems.slice(0, POLICY_LIMITS.maxErrors).map((e) => yamlError(e, lines)) };
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: POLICY_LIMITS.maxAliases });
  } catch (err) {
    const message = /alias/i.test((err as Error).message)
      ? `the document expands aliases too often (at most ${POLICY_LIMITS.maxAliases})`
      : `the document cannot be read: ${(err as Error).message}`;
    return { ok: false, errors: [{ field: '', message }] };
  }
  return { ok: true, source: { value, locate: (path, at) => locate(doc, lines, path, at) } };
}

function yamlError(e: YAMLError, lines: LineCounter): PolicyError {
  const at = lines.linePos(e.pos[0]);
  return { field: '', message: e.message.split('\n')[0], line: at.line, column: at.col };
}

function locate(
  doc: Document,
  lines: LineCounter,
  path: DocumentPath,
  at: 'key' | 'value' = 'value',
): { line?: number; column?: number } {
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
    let range = (node as { range?: [number, number, number] } | null | undefined)?.range;
    if (at === 'key' && n === path.length && n > 0) {
      // the key of the pair, so that "unknown field" points at the name that is unknown
      const parent = n === 1 ? doc.contents : doc.getIn(path.slice(0, n - 1), true);
      if (isMap(parent)) {
        const pair = parent.items.find((p) => (p.key as { value?: unknown } | null)?.value === path[n - 1]);
        range = (pair?.key as { range?: [number, number, number] } | null | undefined)?.range ?? range;
      }
    }
    if (range) {
      const p = lines.linePos(range[0]);
      return { line: p.line, column: p.col };
    }
  }
  return {};
}
