import safeRegex from 'safe-regex2';
import { linearDotStar } from './linear-pattern.js';
import { POLICY_LIMITS } from './policy-limits.js';

export const MAX_PATTERN_LENGTH = POLICY_LIMITS.maxPatternLength;

export type SafePattern = { ok: true; regex: RegExp } | { ok: false; message: string };

/**
 * Compiles a pattern from a policy document, or says why it is refused: not a string, invalid,
 * too long, or able to backtrack catastrophically (star height > 1, per safe-regex2), which an
 * agent could exploit to stall the kernel with one crafted argument. `A.*B` sequences are
 * compiled in their linear form (see linearDotStar).
 */
export function compileSafePattern(source: unknown, flags = 'i'): SafePattern {
  if (typeof source !== 'string' || source.length === 0)
    return { ok: false, message: 'a regular expression must be a non-empty string' };
  if (source.length > MAX_PATTERN_LENGTH)
    return { ok: false, message: `the regular expression is longer than ${MAX_PATTERN_LENGTH} characters` };
  let regex: RegExp;
  try {
    regex = new RegExp(source, flags);
  } catch (err) {
    return { ok: false, message: `invalid regular expression: ${(err as Error).message}` };
  }
  if (!safeRegex(regex))
    return { ok: false, message: 'the regular expression could backtrack catastrophically (nested quantifiers)' };
  const linear = linearDotStar(source);
  return { ok: true, regex: linear === null ? regex : new RegExp(linear, `${flags}m`) };
}
