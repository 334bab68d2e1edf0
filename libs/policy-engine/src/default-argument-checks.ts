import type { ArgumentCheck, PatternCheck, PrefixCheck } from './policy-document.js';

/** Arguments that hold a path, whatever the action (a VFS syscall or a tool's own arguments). */
const PATH_FIELDS = ['dir', 'directory', 'file', 'file_path', 'filename', 'filepath', 'path'];

export interface DefaultArgumentChecks {
  protectedPaths: Required<PrefixCheck>;
  pathTraversal: Required<ArgumentCheck>;
  dangerousCode: Required<PatternCheck>;
  destructiveSql: Required<PatternCheck>;
  internalEndpoints: Required<PrefixCheck>;
}

/**
 * The seed's argument checks (policy_engine.py `check_violation`), keyed to the actions our
 * kernel really asks for: the seed keyed them to tool names (`write_file`) the kernel never
 * used, so VFS syscalls got no path check at all. Path and endpoint checks apply to every action
 * with such an argument; code and SQL checks to the tools that run code or queries.
 */
export const DEFAULT_ARGUMENT_CHECKS: DefaultArgumentChecks = {
  protectedPaths: {
    enabled: true,
    actions: ['*'],
    fields: PATH_FIELDS,
    prefixes: ['/dev/', '/etc/', '/proc/', '/sys/', 'C:\\Windows\\System32'],
    onViolation: 'kill',
  },
  pathTraversal: {
    enabled: true,
    actions: ['*'],
    fields: PATH_FIELDS,
    onViolation: 'kill',
  },
  dangerousCode: {
    enabled: true,
    actions: ['code_execute', 'execute_code', 'run_command', 'shell'],
    fields: ['cmd', 'code', 'command', 'script'],
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
    fields: ['query', 'sql'],
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
    actions: ['*'],
    fields: ['endpoint', 'uri', 'url'],
    prefixes: ['internal://'],
    onViolation: 'kill',
  },
};
