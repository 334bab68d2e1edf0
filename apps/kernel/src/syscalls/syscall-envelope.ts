import { REQUEST_ID_MAX, clip, hasControlChars, isSyscallName, type SyscallName } from '#contracts';

/** A request body taken apart; `problem` says why it cannot be executed (-5), if it cannot. */
export interface SyscallEnvelope {
  /** The agent's id when valid; otherwise null (a kernel id is used for the record). */
  id: string | null;
  syscall: string;
  args: Record<string, unknown>;
  problem: string | null;
}

const MAX_DEPTH = 32;

/**
 * Reads `{id?, syscall, args?}`. Anything wrong with it is a `problem` (reply -5); the body is
 * still recorded when the agent is registered, so a compliance team sees malformed attempts too.
 * Other fields are ignored, an `agentId` among them: the subject is the identity.
 */
export function parseSyscallEnvelope(body: Record<string, unknown>): SyscallEnvelope {
  const env: SyscallEnvelope = { id: null, syscall: '', args: {}, problem: null };
  const problems: string[] = [];

  if (body.id !== undefined) {
    if (
      typeof body.id === 'string' &&
      body.id.length >= 1 &&
      body.id.length <= REQUEST_ID_MAX &&
      body.id.isWellFormed() &&
      !hasControlChars(body.id)
    ) {
      env.id = body.id;
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
    } else if (!wellFormed(body.args, 0)) {
      problems.push(`args must be nested at most ${MAX_DEPTH} deep and contain only valid Unicode strings`);
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

/** JSON from JSON.parse can still hold lone surrogates; the canonical form (and Postgres) cannot. */
function wellFormed(v: unknown, depth: number): boolean {
  if (depth > MAX_DEPTH) return false;
  if (typeof v === 'string') return v.isWellFormed();
  if (Array.isArray(v)) return v.every((x) => wellFormed(x, depth + 1));
  if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) if (!k.isWellFormed() || !wellFormed(x, depth + 1)) return false;
  }
  return true;
}
