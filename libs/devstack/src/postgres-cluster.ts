import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './nats-server-process.js';

const run = promisify(execFile);

/** The directory of this machine's Postgres server binaries (PG_BIN, or Debian's newest), or null. */
export function findPostgresBin(): string | null {
  if (process.env.PG_BIN) return existsSync(path.join(process.env.PG_BIN, 'initdb')) ? process.env.PG_BIN : null;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((v) => existsSync(path.join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length ? path.join(root, versions[0], 'bin') : null;
}

/**
 * A Postgres server of a test's own: a fresh cluster (initdb) in a temporary directory, on a free
 * loopback port, trust authentication for `postgres`. Run as the `postgres` user when this process
 * is root (Postgres refuses to run as root). stop() shuts it down and removes every file.
 */
export class PostgresCluster {
  private dir: string | null = null;
  port = 0;

  private constructor(
    private readonly bin: string,
    private readonly owner: { uid: number; gid: number } | null,
  ) {}

  /** A cluster object, or null when this machine has no Postgres binaries to start one with. */
  static async create(): Promise<PostgresCluster | null> {
    const bin = findPostgresBin();
    if (!bin) return null;
    let owner: { uid: number; gid: number } | null = null;
    if (process.getuid?.() === 0) {
      const { stdout } = await run('id', ['-u', 'postgres']).catch(() => ({ stdout: '' }));
      const { stdout: gid } = await run('id', ['-g', 'postgres']).catch(() => ({ stdout: '' }));
      if (!stdout.trim()) return null;
      owner = { uid: Number(stdout.trim()), gid: Number(gid.trim()) };
    }
    return new PostgresCluster(bin, owner);
  }

  /** `postgres://postgres@127.0.0.1:<port>/<database>` */
  url(database: string): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  async start(): Promise<void> {
    if (this.dir) throw new Error('already started');
    this.dir = mkdtempSync(path.join(os.tmpdir(), 'agentos-pg-'));
    if (this.owner) chownSync(this.dir, this.owner.uid, this.owner.gid);
    this.port = await freePort();
    const data = path.join(this.dir, 'data');
    await this.exec('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
    await this.resume();
  }

  /** Starts the server again after stop({ keepData: true }) (same port, same data). */
  async resume(): Promise<void> {
    const data = path.join(this.dir!, 'data');
    await this.exec('pg_ctl', [
      '-D',
      data,
      '-l',
      path.join(this.dir!, 'server.log'),
      '-w',
      '-t',
      '30',
      '-o',
      `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c max_connections=200`,
      'start',
    ]);
    await this.waitReady();
  }

  /** Stops the server (immediately: like a crash); with keepData, resume() can start it again. */
  async stop(o: { keepData?: boolean } = {}): Promise<void> {
    if (!this.dir) return;
    await this.exec('pg_ctl', ['-D', path.join(this.dir, 'data'), '-m', 'immediate', '-w', 'stop']).catch(
      () => undefined,
    );
    if (!o.keepData) {
      rmSync(this.dir, { recursive: true, force: true });
      this.dir = null;
    }
  }

  private async waitReady(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const c = new pg.Client({ connectionString: this.url('postgres') });
      try {
        await c.connect();
        await c.query('SELECT 1');
        return;
      } catch (err) {
        if (Date.now() > deadline)
          throw new Error(`postgres on port ${this.port} not ready: ${(err as Error).message}`);
      } finally {
        await c.end().catch(() => undefined);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  private async exec(tool: string, args: string[]): Promise<void> {
    await run(path.join(this.bin, tool), args, {
      cwd: this.dir ?? undefined,
      ...(this.owner ? { uid: this.owner.uid, gid: this.owner.gid } : {}),
      env: { ...process.env, LC_ALL: 'C.UTF-8' },
    });
  }
}
