import { connect, credsAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import { readFileSync } from 'node:fs';
import { loadConfig } from '#config';
import { isApiError, parseNatsUrl, withSubjectPrefix } from '#contracts';

/** An operator's NATS session: the deployment's subjects, `{error}` replies as exceptions. */
export class NatsSession {
  private constructor(
    readonly nc: NatsConnection,
    readonly prefix: string,
  ) {}

  static async open(): Promise<NatsSession> {
    const c = loadConfig('cli');
    const nc = await connect({
      ...parseNatsUrl(c.natsUrl),
      ...(c.natsCredsFile ? { authenticator: credsAuthenticator(readFileSync(c.natsCredsFile)) } : {}),
      name: 'agentos-cli',
      timeout: 5000,
    });
    return new NatsSession(nc, c.subjectPrefix);
  }

  subject(s: string): string {
    return withSubjectPrefix(s, this.prefix);
  }

  async request<T>(subject: string, body: unknown, timeoutMs = 30_000): Promise<T> {
    let reply: unknown;
    try {
      reply = (await this.nc.request(this.subject(subject), JSON.stringify(body), { timeout: timeoutMs })).json();
    } catch (err) {
      throw new Error(`no answer on ${this.subject(subject)}: ${(err as Error).message} (is the service running?)`);
    }
    if (isApiError(reply)) {
      const e = new Error(reply.error.message) as Error & { code: number; details: unknown };
      e.code = reply.error.code;
      e.details = reply.error;
      throw e;
    }
    return reply as T;
  }

  async close(): Promise<void> {
    await this.nc.close();
  }
}

/** Runs `fn` with a session and always closes it. */
export async function withSession<T>(fn: (s: NatsSession) => Promise<T>): Promise<T> {
  const s = await NatsSession.open();
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}
