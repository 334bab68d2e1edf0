import type { DocumentSource } from './document-source.js';
import { jsonDataProblems } from './json-data.js';
import { readJson } from './json-source.js';
import { estimateNesting } from './nesting-guard.js';
import type { PolicyDocument } from './policy-document.js';
import { fieldName, type DocumentPath, type PolicyError, type Problem } from './policy-error.js';
import { POLICY_LIMITS } from './policy-limits.js';
import { schemaProblems } from './schema-errors.js';
import { policySchemaValidator, seedSchemaValidator } from './schema-validators.js';
import { fromSeedFormat, isSeedFormat, seedImportProblems, seedPathOf } from './seed-format.js';
import { semanticProblems } from './semantic-checks.js';
import { textPositions } from './text-position.js';
import { readYaml } from './yaml-source.js';

export type ParseResult =
  { ok: true; document: PolicyDocument; importedFrom?: 'seed' } | { ok: false; errors: PolicyError[] };

/**
 * Reads a policy document (YAML or JSON) and checks it against the published schema and the
 * rules a schema cannot say (unique names, safe regular expressions), reporting every problem
 * with its field and line. Oversized and too deeply nested texts are refused before they are
 * parsed, alias bombs while they are expanded; nothing here throws or hangs on hostile input.
 * A document in the seed's declarative format is imported (`importedFrom: 'seed'`).
 */
export function parsePolicyDocument(text: string, format: 'yaml' | 'json' = 'yaml'): ParseResult {
  if (typeof text !== 'string') return fail([{ field: '', message: 'the document must be text' }]);
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > POLICY_LIMITS.maxBytes)
    return fail([{ field: '', message: `the document is ${bytes} bytes; the limit is ${POLICY_LIMITS.maxBytes}` }]);
  // twice the limit: the estimate may be off either way; the exact check follows on the value
  const nesting = estimateNesting(text, 2 * POLICY_LIMITS.maxDepth);
  if (nesting.depth > 2 * POLICY_LIMITS.maxDepth) {
    const at = textPositions(text)(nesting.offset);
    return fail([{ field: '', message: `the document is nested deeper than ${POLICY_LIMITS.maxDepth} levels`, ...at }]);
  }

  const read = format === 'json' ? readJson(text) : readYaml(text);
  if (!read.ok) return read;
  const source = read.source;
  const data = jsonDataProblems(source.value, POLICY_LIMITS.maxDepth, POLICY_LIMITS.maxErrors);
  if (data.length > 0) return fail(located(source, data));

  if (isSeedFormat(source.value)) return importSeed(source);
  const validate = policySchemaValidator();
  if (!validate(source.value)) return fail(located(source, schemaProblems(validate.errors ?? [])));
  const document = source.value as PolicyDocument;
  const semantic = semanticProblems(document);
  if (semantic.length > 0) return fail(located(source, semantic));
  return { ok: true, document };
}

function importSeed(source: DocumentSource): ParseResult {
  const validate = seedSchemaValidator();
  if (!validate(source.value)) return fail(located(source, schemaProblems(validate.errors ?? [])));
  const seed = source.value as Parameters<typeof fromSeedFormat>[0];
  const unsupported = seedImportProblems(seed);
  if (unsupported.length > 0) return fail(located(source, unsupported));
  const document = fromSeedFormat(seed);
  // what our format refuses in the converted document (unsafe regexes, duplicate names, ...), shown where the seed wrote it
  const validate2 = policySchemaValidator();
  const problems = validate2(document) ? semanticProblems(document) : schemaProblems(validate2.errors ?? []);
  if (problems.length > 0) {
    const back = (p: DocumentPath | undefined) => (p ? seedPathOf(p) : undefined);
    return fail(
      located(
        source,
        problems.map((p) => ({ ...p, path: seedPathOf(p.path), locateAt: back(p.locateAt) })),
      ),
    );
  }
  return { ok: true, document, importedFrom: 'seed' };
}

function located(source: DocumentSource, problems: readonly Problem[]): PolicyError[] {
  return problems
    .slice(0, POLICY_LIMITS.maxErrors)
    .map((p) => ({ field: fieldName(p.path), message: p.message, ...source.locate(p.locateAt ?? p.path, p.at) }))
    .sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
}

function fail(errors: PolicyError[]): ParseResult {
  return { ok: false, errors };
}
