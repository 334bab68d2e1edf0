/**
 * NATS URLs as operators write them, `nats://user:password@host:4222,nats://host2:4222`: the
 * server list plus the credentials (nats.js takes credentials only as options, not in the URL).
 */
export function parseNatsUrl(url: string): { servers: string[]; user?: string; pass?: string } {
  let user: string | undefined;
  let pass: string | undefined;
  const servers = url
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const m = /^([a-z]+:\/\/)([^@/]*)@(.*)$/i.exec(s);
      if (!m) return s;
      const [u, p] = m[2].split(':');
      user ??= decodeURIComponent(u);
      if (p !== undefined) pass ??= decodeURIComponent(p);
      return `${m[1]}${m[3]}`;
    });
  return { servers, ...(user ? { user } : {}), ...(pass !== undefined ? { pass } : {}) };
}
