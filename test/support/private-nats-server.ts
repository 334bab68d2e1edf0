import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const BINARIES = ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server'];

export function natsServerBinary(): string {
  const found = process.env.NATS_SERVER_BIN ?? BINARIES.find((b) => existsSync(b));
  if (!found) throw new Error('nats-server binary not found (set NATS_SERVER_BIN)');
  return found;
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
 * A real nats-server of the test's own (same binary as the machine's), on a free port: for tests
 * that must stop the bus or start it with a special configuration (accounts, permissions).
 */
export class PrivateNatsServer {
  private child: ChildProcess | null = null;
  port = 0;
  private configFile?: string;

  constructor(private readonly config?: string) {}

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  async start(port?: number): Promise<void> {
    this.port = port ?? this.port ?? 0;
    if (!this.port) this.port = await freePort();
    const args = ['-a', '127.0.0.1', '-p', String(this.port)];
    if (this.config) {
      if (!this.configFile) {
        this.configFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'agentos-nats-')), 'nats.conf');
        writeFileSync(this.configFile, this.config);
      }
      args.push('-c', this.configFile, '-sd', path.join(path.dirname(this.configFile), 'jetstream'));
    }
    this.child = spawn(natsServerBinary(), args, { stdio: 'ignore' });
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
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGKILL');
    });
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
