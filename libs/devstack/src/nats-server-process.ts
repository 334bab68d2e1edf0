import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const BINARIES = ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server'];

/** The nats-server binary of this machine (NATS_SERVER_BIN, or a usual place), or null. */
export function findNatsServer(): string | null {
  return process.env.NATS_SERVER_BIN ?? BINARIES.find((b) => existsSync(b)) ?? null;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * A nats-server of our own on loopback (free ports), with its HTTP monitoring endpoint: the
 * benchmark runs every phase on one, so it can read the messages the server carried and the
 * server's CPU, and stops it afterwards.
 */
export class NatsServerProcess {
  private child: ChildProcess | null = null;
  private dir: string | null = null;
  port = 0;
  monitorPort = 0;

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  get pid(): number {
    return this.child?.pid ?? -1;
  }

  async start(o: { config?: string } = {}): Promise<void> {
    const bin = findNatsServer();
    if (!bin) throw new Error('nats-server binary not found (set NATS_SERVER_BIN)');
    this.port = await freePort();
    this.monitorPort = await freePort();
    this.dir = mkdtempSync(path.join(os.tmpdir(), 'agentos-nats-'));
    const args = ['-a', '127.0.0.1', '-p', String(this.port), '-m', String(this.monitorPort)];
    if (o.config) {
      const file = path.join(this.dir, 'nats.conf');
      writeFileSync(file, o.config);
      args.push('-c', file);
    }
    this.child = spawn(bin, args, { stdio: 'ignore' });
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (await canConnect(this.port)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`nats-server did not start on port ${this.port}`);
  }

  async stop(): Promise<void> {
    const c = this.child;
    this.child = null;
    if (c && c.exitCode === null) {
      await new Promise<void>((resolve) => {
        c.once('exit', () => resolve());
        c.kill('SIGTERM');
        setTimeout(() => c.kill('SIGKILL'), 3000).unref();
      });
    }
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = null;
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
