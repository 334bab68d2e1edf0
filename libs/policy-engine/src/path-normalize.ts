/**
 * A path with `.` and `..` resolved and slashes collapsed, as the seed compared
 * `os.path.normpath(path)` with the protected prefixes: `/mem/../etc/passwd` is `/etc/passwd`.
 * Never climbs above the root. Keeps a trailing slash, so `/etc/` still starts with `/etc/`.
 */
export function normalizePosixPath(path: string): string {
  const absolute = path.startsWith('/');
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!absolute) out.push('..');
      continue;
    }
    out.push(part);
  }
  const joined = (absolute ? '/' : '') + out.join('/');
  return path.endsWith('/') && out.length > 0 ? `${joined}/` : joined || (absolute ? '/' : '.');
}
