/** What to do when a check or rule is violated. */
export type OnViolation = 'kill' | 'deny' | 'audit';
export type Effect = 'allow' | 'deny';
export type Operator = 'eq' | 'ne' | 'gt' | 'lt' | 'gte' | 'lte' | 'in' | 'not_in' | 'contains' | 'matches';

/** `{field, operator, value}` or a combination. A missing field makes every operator false (the seed). */
export type Condition =
  | { field: string; operator: Operator; value: unknown }
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition };

export interface Match {
  /** Action names (`file_write`, a tool's name, `syscall_sys_stat`, ...); `*` for any. Omitted: any. */
  actions?: string[];
  roles?: string[];
  agents?: string[];
}

/** An allow-list entry: an action, or an action allowed only when a condition holds (ABAC). */
export type AllowEntry = string | { action: string; when: Condition };

export interface RolePolicy {
  allow?: AllowEntry[];
  /** Attributes of agents with this role, for conditions (`context.x`, or `x` at the top, as in the seed). */
  context?: Record<string, unknown>;
}

export interface PolicyRule {
  name: string;
  description?: string;
  /** Higher first. Default 0. */
  priority?: number;
  match?: Match;
  when?: Condition;
  effect: Effect;
  onViolation?: OnViolation;
  /** The reason given to the agent when this rule refuses. */
  message?: string;
}

export interface ArgumentCheck {
  enabled?: boolean;
  actions?: string[];
  /** Argument names checked. */
  fields?: string[];
  onViolation?: OnViolation;
}

export interface ArgumentChecks {
  /** Control characters and protected prefixes in path arguments. */
  protectedPaths?: ArgumentCheck & { prefixes?: string[] };
  /** `..` segments in path arguments. */
  pathTraversal?: ArgumentCheck;
  /** Dangerous shell/code patterns (the seed's 7 regexes by default). */
  dangerousCode?: ArgumentCheck & { patterns?: string[] };
  /** Destructive SQL (the seed's 5 regexes by default). */
  destructiveSql?: ArgumentCheck & { patterns?: string[] };
  /** Internal endpoints (`internal://` by default). */
  internalEndpoints?: ArgumentCheck & { prefixes?: string[] };
}

export interface RateLimit {
  name: string;
  match?: Pick<Match, 'actions' | 'roles'>;
  perMinute?: number;
  perHour?: number;
  onViolation?: OnViolation;
  message?: string;
}

/** A policy document (`apiVersion: agentos/v1`), as written in YAML or JSON. */
export interface PolicyDocument {
  apiVersion: 'agentos/v1';
  name: string;
  description?: string;
  defaults?: { effect?: Effect; onViolation?: OnViolation };
  roles?: Record<string, RolePolicy>;
  rules?: PolicyRule[];
  argumentChecks?: ArgumentChecks;
  rateLimits?: RateLimit[];
}

/** An error in a document, located: `field` is a path like `rules[2].when.operator`. */
export interface PolicyError {
  field: string;
  message: string;
  line?: number;
  column?: number;
}
