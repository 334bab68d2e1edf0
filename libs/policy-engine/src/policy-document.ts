/** What happens to an agent whose syscall violates a check, limit or rule. */
export type OnViolation = 'kill' | 'deny' | 'audit';

export type Effect = 'allow' | 'deny';

export const OPERATORS = ['eq', 'ne', 'gt', 'lt', 'gte', 'lte', 'in', 'not_in', 'contains', 'matches'] as const;
export type Operator = (typeof OPERATORS)[number];

/** One comparison. `field` is a dotted path over `args`, `context`, `agent`, `action`, `syscall`, `ring`. */
export interface FieldCondition {
  field: string;
  operator: Operator;
  value: unknown;
}

/** A comparison or a combination. A missing attribute makes every comparison false (the seed). */
export type Condition = FieldCondition | { all: Condition[] } | { any: Condition[] } | { not: Condition };

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
  /** Actions this role may never use, whatever `allow` says (`*` for all). */
  deny?: string[];
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
  /** Default: `defaults.onViolation`. */
  onViolation?: OnViolation;
  /** The reason given to the agent when this rule refuses. */
  message?: string;
}

export interface ArgumentCheck {
  enabled?: boolean;
  /** Actions whose arguments are checked; `*` for any. */
  actions?: string[];
  /** Names of the (top-level) arguments checked. */
  fields?: string[];
  onViolation?: OnViolation;
}

export interface PrefixCheck extends ArgumentCheck {
  prefixes?: string[];
}

export interface PatternCheck extends ArgumentCheck {
  /** Regular expressions, matched case-insensitively anywhere in the value. */
  patterns?: string[];
}

/** A check of one's own: arguments matching any of the patterns violate it. */
export interface CustomArgumentCheck {
  name: string;
  actions?: string[];
  fields: string[];
  patterns: string[];
  onViolation?: OnViolation;
  message?: string;
}

export interface ArgumentChecks {
  /** Control characters and protected prefixes in path arguments. */
  protectedPaths?: PrefixCheck;
  /** `..` segments in path arguments. */
  pathTraversal?: ArgumentCheck;
  /** Dangerous shell/code patterns (the seed's 7 regexes by default). */
  dangerousCode?: PatternCheck;
  /** Destructive SQL (the seed's 5 regexes by default). */
  destructiveSql?: PatternCheck;
  /** Internal endpoints (`internal://` by default). */
  internalEndpoints?: PrefixCheck;
  custom?: CustomArgumentCheck[];
}

/** Per agent: how many syscalls of the matching actions it may make per minute and per hour. */
export interface RateLimit {
  name: string;
  match?: Pick<Match, 'actions' | 'roles'>;
  perMinute?: number;
  perHour?: number;
  /** Default: deny (a busy agent is slowed down, not killed). */
  onViolation?: OnViolation;
  message?: string;
}

export interface PolicyDefaults {
  /** What no rule and no allow-list decides. Default deny ("scale by subtraction"). */
  action?: Effect;
  /** The same as `action` (the name used before `action`); give one of them. */
  effect?: Effect;
  /** Default kill: the seed's 0 % tolerance (SIGPOLICY, escalating to SIGKILL). */
  onViolation?: OnViolation;
}

/** A policy document (`apiVersion: agentos/v1`), as written in YAML or JSON. */
export interface PolicyDocument {
  apiVersion: 'agentos/v1';
  name: string;
  description?: string;
  defaults?: PolicyDefaults;
  roles?: Record<string, RolePolicy>;
  rules?: PolicyRule[];
  argumentChecks?: ArgumentChecks;
  rateLimits?: RateLimit[];
}
