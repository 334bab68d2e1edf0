import {
  findNodeAtLocation,
  parseTree,
  printParseErrorCode,
  type Node as JsonNode,
  type ParseError,
} from 'jsonc-parser';
import type { SourceResult } from './document-source.js';
import { fieldName, type DocumentPath, type PolicyError } from './policy-error.js';
import { POLICY_LIMITS } from './policy-limits.js';
import { textPositions } from './text-position.js';

const STRICT = { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false };

/**
 * Reads strict JSON (no comments, no trailing commas, no duplicate keys), keeping the syntax
 * tree to locate errors: JSON.parse says neither where the syntax is wrong nor where a field is.
 */
export function readJson(text: string): SourceResult {
  const position = textPositions(text);
  const syntax: ParseError[] = [];
  const tree = parseTree(text, syntax, STRICT);
  if (syntax.length > 0 || !tree) {
    const errors = syntax.length
      ? syntax.map((e) => ({
          field: '',
          message: `not valid JSON: ${printParseErrorCode(e.error)}`,
          ...position(e.offset),
        }))
      : [{ field: '', message: 'not valid JSON: the document is empty' }];
    return { ok: false, errors: errors.slice(0, POLICY_LIMITS.maxErrors) };
  }
  const duplicates = duplicateKeys(tree, position);
  if (duplicates.length > 0) return { ok: false, errors: duplicates.slice(0, POLICY_LIMITS.maxErrors) };
  const value: unknown = JSON.parse(text);
  return {
    ok: true,
    source: {
      value,
      locate: (path, at) => {
        for (let n = path.length; n >= 0; n--) {
          const node = findNodeAtLocation(tree, path.slice(0, n) as (string | number)[]);
          if (!node) continue;
          const key = at === 'key' && n === path.length && node.parent?.type === 'property';
          return position(key ? node.parent!.offset : node.offset);
        }
        return {};
      },
    },
  };
}

/** JSON allows them, and the last one wins silently; in a policy that hides a mistake. */
function duplicateKeys(tree: JsonNode, position: (offset: number) => { line: number; column: number }): PolicyError[] {
  const errors: PolicyError[] = [];
  const stack: { node: JsonNode; path: DocumentPath }[] = [{ node: tree, path: [] }];
  while (stack.length > 0) {
    const { node, path } = stack.pop()!;
    if (node.type === 'array') node.children?.forEach((c, i) => stack.push({ node: c, path: [...path, i] }));
    if (node.type !== 'object') continue;
    const seen = new Set<string>();
    for (const property of node.children ?? []) {
      const [key, value] = property.children ?? [];
      if (!key || typeof key.value !== 'string') continue;
      const at = [...path, key.value];
      if (seen.has(key.value))
        errors.push({ field: fieldName(at), message: `duplicate key '${key.value}'`, ...position(key.offset) });
      seen.add(key.value);
      if (value) stack.push({ node: value, path: at });
    }
  }
  return errors.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
}
