import { REQUEST_ID_MAX, clip, hasControlChars, isSyscallName, jsonDepth, type SyscallName } from '#contracts';

/** How deep a syscall's arguments may nest (well within the log's 64 for a whole event). */
export const ARGS_MAX_DEPTH = 32;

/** A request body taken apart; `problem` says why it cannot be executed (-5), if it cannot. */
export interface SyscallEnvelope {
  /** The agent's id when valid; otherwise null (a kernel id is used for the record). */
  id: string | null;
  syscall: string;
  args: Record<string, unknown>;
  problem: string | null;
}

/**
 * Reads `{id?, syscall, args?}`. Anything wrong with it is a `problem` (reply -5); the body is
 * still recorded when the agent is registered, so a compliance team sees malformed attempts too.
 * Other fields are ignored, an `agentId` among them: the subject is the identity.
 */
export function parseSyscallEnvelope(body: Record<string, unknown>): SyscallEnvelope {
  const env: SyscallEnvelope = { id: null, syscall: '', args: {}, problem: null };
  const problems: string[] = [];

  if (body.id !== undefined) {
    const id = body.id;
    if (
      typeof id === 'string' &&
      id.length >= 1 &&
      id.length <= REQUEST_ID_MAX &&
      id.isWellFormed() &&
      !hasControlChars(id)
    ) {
      env.id = id;
    } else {
      problems.push(`id must be a string of 1..${REQUEST_ID_MAX} characters without control characters`);
    }
  }

  if (typeof body.syscall !== 'string') {
    problems.push('syscall must be a string naming a syscall');
  } else {
    env.syscall = clip(body.syscall, 64); // recorded as sent, made well-formed
    if (!isSyscallName(body.syscall)) problems.push(`unknown syscall name '${env.syscall}'`);
  }

  if (body.args !== undefined && body.args !== null) {
    if (typeof body.args !== 'object' || Array.isArray(body.args)) {
      problems.push('args must be a JSON object');
    } else if (jsonDepth(body.args, ARGS_MAX_DEPTH) > ARGS_MAX_DEPTH || !wellFormed(body.args)) {
      problems.push(`args must be nested at most ${ARGS_MAX_DEPTH} deep and contain only valid Unicode strings`);
    } else {
      env.args = body.args as Record<string, unknown>;
    }
  }
  env.problem = problems.length ? problems.join('; ') : null;
  return env;
}

export function isKnownSyscall(env: SyscallEnvelope): env is SyscallEnvelope & { syscall: SyscallName } {
  return env.problem === null && isSyscallName(env.syscall);
}

/**
 * JSON from JSON.parse can still hold lone surrogates; the canonical form (and Postgres) cannot.
 * Iterative: the depth was bounded just before, but a walk must never recurse on outside input.
 */
function wellFormed(root: unknown): boolean {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') {
      if (!v.isWellFormed()) return false;
    } else if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) stack.push(v[i]);
    } else if (v !== null && typeof v === 'object') {
      for (const k in v as object) {
        if (!k.isWellFormed()) return false;
        stack.push((v as Record<string, unknown>)[k]);
      }
    }
  }
  return true;
}
