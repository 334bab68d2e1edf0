import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import { parse as parseJsonc, printParseErrorCode, type ParseError } from 'jsonc-parser';
import { LineCounter, parseDocument, type Document } from 'yaml';
import type { Condition, PolicyDocument, PolicyError } from './policy-document.js';
import { POLICY_JSON_SCHEMA } from './policy-schema.js';
import { compileSafePattern } from './safe-pattern.js';
import { fromSeedFormat, isSeedFormat } from './seed-format.js';

export const POLICY_LIMITS = { maxBytes: 256 * 1024, maxDepth: 32, maxAliases: 50 };

export type ParseResult =
  { ok: true; document: PolicyDocument; importedFrom?: 'seed' } | { ok: false; errors: PolicyError[] };

let compiled: ReturnType<Ajv2020['compile']> | undefined;
/** The schema validator, compiled on first use (it costs ~100 ms; most processes never need it). */
function schemaValidator(): ReturnType<Ajv2020['compile']> {
  return (compiled ??= new Ajv2020({ allErrors: true, strict: false }).compile(POLICY_JSON_SCHEMA));
}

/**
 * Reads a policy document (YAML or JSON), validates it against the published schema and the
 * rules a schema cannot say (unique names, safe regexes), and reports every error with the field
 * and the line. Refuses oversized, too deeply nested and alias-bomb documents before looking
 * further.
 */
export function parsePolicyDocument(text: string, format: 'yaml' | 'json' = 'yaml'): ParseResult {
  if (typeof text !== 'string') return fail([{ field: '', message: 'the document must be text' }]);
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > POLICY_LIMITS.maxBytes) {
    return fail([{ field: '', message: `the document is ${bytes} bytes; the limit is ${POLICY_LIMITS.maxBytes}` }]);
  }
  const lc = new LineCounter();
  if (format === 'json') {
    // JSON.parse does not say where (on Node 20); jsonc-parser does, strictly (no comments, no trailing commas).
    const problems: ParseError[] = [];
    parseJsonc(text, problems, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
    if (problems.length) {
      parseDocument(text, { lineCounter: lc }); // fills the line counter
      return fail(
        problems.slice(0, 10).map((p) => {
          const at = lc.linePos(p.offset);
          return {
            field: '',
            message: `not valid JSON: ${printParseErrorCode(p.error)}`,
            line: at.line,
            column: at.col,
          };
        }),
      );
    }
  }
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true, prettyErrors: false, strict: true });
  if (doc.errors.length) {
    return fail(
      doc.errors.map((e) => ({
        field: '',
        message: e.message.split('\n')[0],
        ...(e.linePos ? { line: e.linePos[0].line, column: e.linePos[0].col } : {}),
      })),
    );
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: POLICY_LIMITS.maxAliases });
  } catch (err) {
    return fail([{ field: '', message: `the document cannot be read: ${(err as Error).message}` }]);
  }
  if (depth(value) > POLICY_LIMITS.maxDepth) {
    return fail([{ field: '', message: `the document is nested deeper than ${POLICY_LIMITS.maxDepth} levels` }]);
  }
  let importedFrom: 'seed' | undefined;
  if (isSeedFormat(value)) {
    value = fromSeedFormat(value as Record<string, unknown>);
    importedFrom = 'seed';
  }
  const locate = (path: (string | number)[]) => (importedFrom ? {} : lineOf(doc, lc, path));

  const validate = schemaValidator();
  if (!validate(value)) {
    return fail(
      schemaErrors(validate.errors ?? [])
        .map((e) => ({ ...e, ...locate(e.path) }))
        .map(stripPath),
    );
  }
  const document = value as PolicyDocument;
  const semantic = semanticErrors(document);
  if (semantic.length) return fail(semantic.map((e) => ({ ...e, ...locate(e.path) })).map(stripPath));
  return { ok: true, document, ...(importedFrom ? { importedFrom } : {}) };
}

interface LocatedError extends PolicyError {
  path: (string | number)[];
}

function fail(errors: PolicyError[]): ParseResult {
  return { ok: false, errors };
}

function stripPath(e: LocatedError): PolicyError {
  const { path: _path, ...rest } = e;
  return rest;
}

/** The most specific error per location (ajv reports every failed alternative of a oneOf). */
function schemaErrors(errors: ErrorObject[]): LocatedError[] {
  const located = errors
    .filter((e) => e.keyword !== 'oneOf' && e.keyword !== 'anyOf')
    .map((e) => {
      const path = e.instancePath.split('/').slice(1).map(decodePointer);
      if (e.keyword === 'additionalProperties')
        path.push((e.params as { additionalProperty: string }).additionalProperty);
      const message =
        e.keyword === 'additionalProperties'
          ? 'unknown field'
          : e.keyword === 'enum'
            ? `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`
            : (e.message ?? 'invalid');
      return { path, field: fieldName(path), message };
    });
  const kept: LocatedError[] = [];
  for (const e of located.sort((a, b) => b.path.length - a.path.length)) {
    const covered = kept.some(
      (k) => k.field === e.field || k.field.startsWith(`${e.field}.`) || k.field.startsWith(`${e.field}[`),
    );
    if (!covered) kept.push(e);
  }
  return kept.reverse();
}

function semanticErrors(d: PolicyDocument): LocatedError[] {
  const errors: LocatedError[] = [];
  const seen = new Set<string>();
  (d.rules ?? []).forEach((r, i) => {
    if (seen.has(r.name))
      errors.push({
        path: ['rules', i, 'name'],
        field: `rules[${i}].name`,
        message: `duplicate rule name '${r.name}'`,
      });
    seen.add(r.name);
    if (r.when) conditionErrors(r.when, ['rules', i, 'when'], errors);
  });
  const limits = new Set<string>();
  (d.rateLimits ?? []).forEach((l, i) => {
    if (limits.has(l.name))
      errors.push({
        path: ['rateLimits', i, 'name'],
        field: `rateLimits[${i}].name`,
        message: `duplicate rate limit name '${l.name}'`,
      });
    limits.add(l.name);
  });
  for (const [role, rp] of Object.entries(d.roles ?? {})) {
    (rp.allow ?? []).forEach((a, i) => {
      if (typeof a === 'object') conditionErrors(a.when, ['roles', role, 'allow', i, 'when'], errors);
    });
  }
  for (const check of ['dangerousCode', 'destructiveSql'] as const) {
    (d.argumentChecks?.[check]?.patterns ?? []).forEach((p, i) => {
      const r = compileSafePattern(p);
      if (!r.ok)
        errors.push({
          path: ['argumentChecks', check, 'patterns', i],
          field: `argumentChecks.${check}.patterns[${i}]`,
          message: r.message,
        });
    });
  }
  return errors;
}

function conditionErrors(c: Condition, path: (string | number)[], errors: LocatedError[]): void {
  if ('all' in c) return c.all.forEach((x, i) => conditionErrors(x, [...path, 'all', i], errors));
  if ('any' in c) return c.any.forEach((x, i) => conditionErrors(x, [...path, 'any', i], errors));
  if ('not' in c) return conditionErrors(c.not, [...path, 'not'], errors);
  const at = [...path, 'value'];
  if ((c.operator === 'in' || c.operator === 'not_in') && !Array.isArray(c.value)) {
    errors.push({ path: at, field: fieldName(at), message: `operator ${c.operator} needs a list value` });
  }
  if (c.operator === 'matches') {
    const r = compileSafePattern(c.value, '');
    if (!r.ok) errors.push({ path: at, field: fieldName(at), message: r.message });
  }
  if (['gt', 'lt', 'gte', 'lte'].includes(c.operator) && typeof c.value !== 'number' && typeof c.value !== 'string') {
    errors.push({ path: at, field: fieldName(at), message: `operator ${c.operator} needs a number or a string` });
  }
}

function lineOf(doc: Document, lc: LineCounter, path: (string | number)[]): { line?: number; column?: number } {
  for (let n = path.length; n >= 0; n--) {
    const node = (n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true)) as {
      range?: [number, number, number];
    } | null;
    if (node && typeof node === 'object' && node.range) {
      const p = lc.linePos(node.range[0]);
      return { line: p.line, column: p.col };
    }
  }
  return {};
}

function fieldName(path: (string | number)[]): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' || /^\d+$/.test(String(p)) ? `[${p}]` : s ? `.${p}` : String(p);
  return s;
}

function decodePointer(s: string): string | number {
  const v = s.replace(/~1/g, '/').replace(/~0/g, '~');
  return /^\d+$/.test(v) ? Number(v) : v;
}

function depth(v: unknown, d = 0): number {
  if (d > POLICY_LIMITS.maxDepth) return d;
  if (Array.isArray(v)) return v.reduce((m: number, x) => Math.max(m, depth(x, d + 1)), d + 1);
  if (v && typeof v === 'object') return Object.values(v).reduce((m: number, x) => Math.max(m, depth(x, d + 1)), d + 1);
  return d;
}
