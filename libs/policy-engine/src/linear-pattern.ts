/**
 * Rewrites `A.*B.*C` (a plain sequence joined by `.*`) into a form V8 matches in linear time.
 * safe-regex2 accepts such patterns (star height 1), yet V8 backtracks through them in
 * quadratic time: the seed's `\bALTER\s+TABLE\b.*\bDROP\b` takes a second on 200 KB of
 * "ALTER TABLE ALTER TABLE ...", and an agent chooses its arguments. The rewrite takes the
 * first A on a line, then the first B after it (an atomic step: a lookahead captured and
 * consumed by a backreference cannot be backtracked into), then any C: the same answer for
 * segments that cannot overlap themselves, as the seed's cannot.
 *
 * Returns null (use the pattern as written) for anything else: groups, alternation, anchors or
 * backreferences in a segment, or no `.*` to split at.
 */
export function linearDotStar(source: string): string | null {
  const segments: string[] = [];
  let start = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') {
      if (/[1-9k]/.test(source[i + 1] ?? '')) return null; // a backreference
      i += 1;
    } else if (c === '[') {
      for (i += 1; i < source.length && source[i] !== ']'; i++) if (source[i] === '\\') i += 1;
    } else if (c === '(' || c === ')' || c === '|' || c === '^' || c === '$') {
      return null;
    } else if (c === '.' && source[i + 1] === '*') {
      segments.push(source.slice(start, i));
      i += source[i + 2] === '?' ? 2 : 1;
      start = i + 1;
    }
  }
  segments.push(source.slice(start));
  const parts = segments.filter((s) => s !== '');
  if (segments.length < 2 || parts.length < 2) return null;
  const atomic = parts.slice(0, -1).map((s, i) => `(?=(.*?${s}))\\${i + 1}`);
  return `^${atomic.join('')}.*?${parts[parts.length - 1]}`;
}
