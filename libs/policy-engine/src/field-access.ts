import type { PolicyRequest } from './policy-decision.js';

/** Reads one attribute for a condition; undefined when it is missing. */
export type FieldGetter = (req: PolicyRequest, roleContext: Readonly<Record<string, unknown>>) => unknown;

/**
 * Compiles a dotted field path into a getter over the request, so that evaluating a condition
 * builds no context object. Roots: `args`, `context` (the request's context, then the role's),
 * `agent.id`, `agent.role`, `action`, `syscall`, `ring`; any other first name is a context
 * attribute, as the seed merged the agent's context into the top level. Only own properties are
 * followed (`constructor`, `__proto__` are missing, not inherited).
 */
export function compileFieldGetter(field: string): FieldGetter {
  const [root, ...rest] = field.split('.');
  switch (root) {
    case 'args':
      return rest.length === 0 ? (req) => req.args : (req) => walk(req.args, rest, 0);
    case 'context':
      return rest.length === 0 ? () => undefined : contextGetter(rest);
    case 'agent':
      if (rest.length !== 1) return () => undefined;
      if (rest[0] === 'id') return (req) => req.agentId;
      if (rest[0] === 'role') return (req) => req.role;
      return () => undefined;
    case 'action':
      return rest.length === 0 ? (req) => req.action : () => undefined;
    case 'syscall':
      return rest.length === 0 ? (req) => req.syscall : () => undefined;
    case 'ring':
      return rest.length === 0 ? (req) => req.ring : () => undefined;
    default:
      return contextGetter([root, ...rest]);
  }
}

function contextGetter(path: readonly string[]): FieldGetter {
  const [first] = path;
  return (req, roleContext) => {
    const own = req.context;
    const base = own !== undefined && Object.hasOwn(own, first) ? own : roleContext;
    return walk(base, path, 0);
  };
}

function walk(from: unknown, path: readonly string[], start: number): unknown {
  let v = from;
  for (let i = start; i < path.length; i++) {
    if (v === null || typeof v !== 'object' || !Object.hasOwn(v, path[i])) return undefined;
    v = (v as Record<string, unknown>)[path[i]];
  }
  return v;
}
