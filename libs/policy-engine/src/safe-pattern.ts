import safeRegex from 'safe-regex2';

export const MAX_PATTERN_LENGTH = 512;

/**
 * Compiles a pattern from a policy document, or says why it is refused: invalid, too long, or
 * able to backtrack catastrophically (star height > 1, per safe-regex2), which an agent could
 * exploit to stall the kernel with one crafted argument.
 */
export function compileSafePattern(
  source: unknown,
  flags = 'i',
): { ok: true; regex: RegExp } | { ok: false; message: string } {
  if (typeof source !== 'string' || source.length === 0)
    return { ok: false, message: 'pattern must be a non-empty string' };
  if (source.length > MAX_PATTERN_LENGTH)
    return { ok: false, message: `pattern is longer than ${MAX_PATTERN_LENGTH} characters` };
  let regex: RegExp;
  try {
    regex = new RegExp(source, flags);
  } catch (err) {
    return { ok: false, message: `invalid regular expression: ${(err as Error).message}` };
  }
  if (!safeRegex(regex))
    return { ok: false, message: 'regular expression could backtrack catastrophically (nested quantifiers)' };
  return { ok: true, regex };
}
