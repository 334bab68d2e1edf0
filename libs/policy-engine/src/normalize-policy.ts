import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { AllowEntry, ArgumentChecks, Condition, Effect, OnViolation, PolicyDocument } from './policy-document.js';

/** The seed's argument checks, keyed to our action names (the seed keyed them to tool names it never used). */
export const DEFAULT_ARGUMENT_CHECKS: Required<{
  [K in keyof ArgumentChecks]-?: Required<NonNullable<ArgumentChecks[K]>>;
}> = {
  protectedPaths: {
    enabled: true,
    actions: ['file_read', 'file_write', 'file_open', 'file_close', 'read_file', 'write_file', 'delete_file'],
    fields: ['path'],
    prefixes: ['/etc/', '/sys/', '/proc/', '/dev/', 'C:\\Windows\\System32'],
    onViolation: 'kill',
  },
  pathTraversal: {
    enabled: true,
    actions: ['file_read', 'file_write', 'file_open', 'file_close', 'read_file', 'write_file', 'delete_file'],
    fields: ['path'],
    onViolation: 'kill',
  },
  dangerousCode: {
    enabled: true,
    actions: ['execute_code', 'run_command', 'code_execute', 'shell'],
    fields: ['code', 'command'],
    patterns: [
      '\\brm\\s+-rf\\b',
      '\\bdel\\s+/f\\b',
      '\\bformat\\s+',
      '\\bdrop\\s+table\\b',
      '\\bdrop\\s+database\\b',
      '\\btruncate\\s+table\\b',
      '\\bdelete\\s+from\\b',
    ],
    onViolation: 'kill',
  },
  destructiveSql: {
    enabled: true,
    actions: ['database_query', 'database_write', 'sql_query'],
    fields: ['query'],
    patterns: [
      '\\bDROP\\s+',
      '\\bDELETE\\s+FROM\\b',
      '\\bTRUNCATE\\s+',
      '\\bALTER\\s+TABLE\\b.*\\bDROP\\b',
      '\\bUPDATE\\s+.*\\bSET\\b.*\\bWHERE\\s+1\\s*=\\s*1',
    ],
    onViolation: 'kill',
  },
  internalEndpoints: {
    enabled: true,
    actions: ['api_call', 'http_request'],
    fields: ['endpoint', 'url'],
    prefixes: ['internal://'],
    onViolation: 'kill',
  },
};

/**
 * The document with every default written out: what was meant, whatever was left implicit. The
 * content hash is taken over this, so two documents that mean the same thing hash the same.
 */
export interface NormalizedPolicy {
  apiVersion: 'agentos/v1';
  name: string;
  description: string;
  defaults: { effect: Effect; onViolation: OnViolation };
  roles: Record<string, { allow: AllowEntry[]; context: Record<string, unknown> }>;
  rules: {
    name: string;
    description: string;
    priority: number;
    match: { actions: string[]; roles: string[]; agents: string[] };
    when?: Condition;
    effect: Effect;
    onViolation: OnViolation;
    message: string;
  }[];
  argumentChecks: ArgumentChecks;
  rateLimits: {
    name: string;
    match: { actions: string[]; roles: string[] };
    perMinute?: number;
    perHour?: number;
    onViolation: OnViolation;
    message: string;
  }[];
}

export function normalizePolicy(d: PolicyDocument): NormalizedPolicy {
  const defaults = {
    effect: d.defaults?.effect ?? ('deny' as Effect),
    onViolation: d.defaults?.onViolation ?? ('kill' as OnViolation),
  };
  const checks = {} as Record<keyof ArgumentChecks, unknown>;
  for (const k of Object.keys(DEFAULT_ARGUMENT_CHECKS) as (keyof ArgumentChecks)[]) {
    checks[k] = { ...DEFAULT_ARGUMENT_CHECKS[k], ...(d.argumentChecks?.[k] ?? {}) };
  }
  return {
    apiVersion: 'agentos/v1',
    name: d.name,
    description: d.description ?? '',
    defaults,
    roles: Object.fromEntries(
      Object.entries(d.roles ?? {}).map(([role, r]) => [role, { allow: r.allow ?? [], context: r.context ?? {} }]),
    ),
    rules: (d.rules ?? []).map((r) => ({
      name: r.name,
      description: r.description ?? '',
      priority: r.priority ?? 0,
      match: { actions: r.match?.actions ?? ['*'], roles: r.match?.roles ?? ['*'], agents: r.match?.agents ?? ['*'] },
      ...(r.when ? { when: r.when } : {}),
      effect: r.effect,
      onViolation: r.onViolation ?? defaults.onViolation,
      message: r.message ?? '',
    })),
    argumentChecks: checks as ArgumentChecks,
    rateLimits: (d.rateLimits ?? []).map((l) => ({
      name: l.name,
      match: { actions: l.match?.actions ?? ['*'], roles: l.match?.roles ?? ['*'] },
      ...(l.perMinute !== undefined ? { perMinute: l.perMinute } : {}),
      ...(l.perHour !== undefined ? { perHour: l.perHour } : {}),
      onViolation: l.onViolation ?? 'deny',
      message: l.message ?? '',
    })),
  };
}

/** SHA-256 (hex) of the RFC 8785 form of the normalised document: the policy's identity. */
export function policyContentHash(d: PolicyDocument): string {
  return createHash('sha256')
    .update(canonicalize(normalizePolicy(d)) as string)
    .digest('hex');
}
