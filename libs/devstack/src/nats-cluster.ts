import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { findNatsServer, freePort } from './nats-server-process.js';

export interface NatsClusterOptions {
  /** Number of nodes (default 3). */
  size?: number;
  /** Cluster name (default: a unique one). */
  name?: string;
  /** How long start() and restart() wait for the cluster to be fully routed (default 15 s). */
  readyTimeoutMs?: number;
}

/** One node of the cluster: its ports never change, so a restarted node is where clients expect it. */
export interface NatsClusterNode {
  readonly index: number;
  readonly name: string;
  readonly port: number;
  readonly clusterPort: number;
  readonly monitorPort: number;
  readonly url: string;
  readonly running: boolean;
  readonly pid: number;
}

/** A client connection as a node's /connz reports it. */
export interface NatsClientConnection {
  cid: number;
  name?: string;
  ip: string;
  port: number;
}

class Node implements NatsClusterNode {
  child: ChildProcess | null = null;
  exited: Promise<void> = Promise.resolve();

  constructor(
    readonly index: number,
    readonly name: string,
    readonly port: number,
    readonly clusterPort: number,
    readonly monitorPort: number,
    readonly configFile: string,
    readonly logFile: string,
  ) {}

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  get pid(): number {
    return this.child?.pid ?? -1;
  }
}

/**
 * A cluster of nats-servers on loopback (three by default, free ports for clients, routes and the
 * HTTP monitor), for tests that must prove nothing assumes a single server: `url` lists every
 * node, nodes can be killed (SIGKILL) and restarted on the same ports, and readiness means every
 * running node is routed to every other (polled on /routez, with a deadline).
 */
export class NatsCluster {
  readonly name: string;
  private readonly size: number;
  private readonly readyTimeoutMs: number;
  private readonly bin: string;
  private dir: string | null = null;
  private list: Node[] = [];

  constructor(o: NatsClusterOptions = {}) {
    const bin = findNatsServer();
    if (!bin) throw new Error('nats-server binary not found (set NATS_SERVER_BIN)');
    this.bin = bin;
    this.size = o.size ?? 3;
    if (!Number.isInteger(this.size) || this.size < 2) throw new RangeError('a cluster has at least 2 nodes');
    this.name = o.name ?? `agentos-${process.pid}-${randomBytes(3).toString('hex')}`;
    this.readyTimeoutMs = o.readyTimeoutMs ?? 15_000;
  }

  get nodes(): readonly NatsClusterNode[] {
    return this.list;
  }

  /** Every node's client URL, comma-separated (as AGENTOS_NATS_URL takes them), so clients can fail over. */
  get url(): string {
    return this.list.map((n) => n.url).join(',');
  }

  get urls(): string[] {
    return this.list.map((n) => n.url);
  }

  /** Starts every node and waits until the cluster is fully routed. */
  async start(): Promise<void> {
    if (this.dir) throw new Error('cluster already started');
    this.dir = mkdtempSync(path.join(os.tmpdir(), 'agentos-nats-cluster-'));
    const taken = new Set<number>();
    const port = async () => {
      for (;;) {
        const p = await freePort();
        if (!taken.has(p)) {
          taken.add(p);
          return p;
        }
      }
    };
    for (let i = 0; i < this.size; i++) {
      const name = `${this.name}-n${i}`;
      this.list.push(
        new Node(
          i,
          name,
          await port(),
          await port(),
          await port(),
          path.join(this.dir, `${name}.conf`),
          path.join(this.dir, `${name}.log`),
        ),
      );
    }
    for (const n of this.list) writeFileSync(n.configFile, this.config(n));
    try {
      for (const n of this.list) this.spawn(n);
      await this.waitReady();
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  /** SIGKILL of one node: no goodbye to its clients or routes, as a crashed host. */
  async kill(i: number): Promise<void> {
    const n = this.node(i);
    if (!n.running) return;
    n.child!.kill('SIGKILL');
    await n.exited;
  }

  /** Starts a node again on its ports (killing it first if it runs) and waits for the full mesh. */
  async restart(i: number): Promise<void> {
    const n = this.node(i);
    await this.kill(i);
    this.spawn(n);
    await this.waitReady();
  }

  /**
   * Waits until every running node accepts clients and has a route to every other running node
   * (distinct remote servers on /routez), or fails after the deadline saying which node is not.
   */
  async waitReady(timeoutMs = this.readyTimeoutMs): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let problem = 'not checked yet';
    for (;;) {
      problem = await this.notReady();
      if (!problem) return;
      if (Date.now() > deadline) {
        throw new Error(`NATS cluster ${this.name} not ready after ${timeoutMs} ms: ${problem}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** The client connections of one node (its /connz), e.g. to learn which node a service uses. */
  async connections(i: number): Promise<NatsClientConnection[]> {
    const n = this.node(i);
    const r = await monitor<{ connections?: NatsClientConnection[] }>(n, '/connz?limit=100000');
    return r.connections ?? [];
  }

  /** The last lines of a node's log, for failure messages. */
  logTail(i: number, lines = 30): string {
    const n = this.node(i);
    if (!existsSync(n.logFile)) return '';
    return readFileSync(n.logFile, 'utf8').split('\n').slice(-lines).join('\n');
  }

  /** Kills every node and removes the configuration and logs. */
  async stop(): Promise<void> {
    await Promise.all(this.list.map((n) => this.kill(n.index)));
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = null;
  }

  private node(i: number): Node {
    const n = this.list[i];
    if (!n) throw new RangeError(`no node ${i} in a cluster of ${this.list.length}`);
    return n;
  }

  private config(n: Node): string {
    const routes = this.list.filter((o) => o !== n).map((o) => `nats://127.0.0.1:${o.clusterPort}`);
    return [
      `server_name: ${JSON.stringify(n.name)}`,
      `listen: "127.0.0.1:${n.port}"`,
      `http: "127.0.0.1:${n.monitorPort}"`,
      `log_file: ${JSON.stringify(n.logFile)}`,
      'cluster {',
      `  name: ${JSON.stringify(this.name)}`,
      `  listen: "127.0.0.1:${n.clusterPort}"`,
      `  routes: [${routes.map((r) => JSON.stringify(r)).join(', ')}]`,
      '}',
      '',
    ].join('\n');
  }

  private spawn(n: Node): void {
    const child = spawn(this.bin, ['-c', n.configFile], { stdio: 'ignore' });
    n.child = child;
    n.exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
    child.once('error', () => undefined);
  }

  /** '' when ready, else what is missing. */
  private async notReady(): Promise<string> {
    const running = this.list.filter((n) => n.running);
    for (const n of this.list) {
      if (!n.running && n.child) {
        // a node that was meant to run and died on its own (a port taken, a bad config)
        if (n.child.exitCode !== null) return `${n.name} exited with ${n.child.exitCode}: ${this.logTail(n.index, 5)}`;
      }
    }
    for (const n of running) {
      if (!(await canConnect(n.port))) return `${n.name} does not accept clients on ${n.port}`;
      let routez: { routes?: { remote_id: string }[] };
      try {
        routez = await monitor(n, '/routez');
      } catch (err) {
        return `${n.name} monitor: ${(err as Error).message}`;
      }
      const peers = new Set((routez.routes ?? []).map((r) => r.remote_id)).size;
      if (peers !== running.length - 1) return `${n.name} has routes to ${peers} of ${running.length - 1} peers`;
    }
    return '';
  }
}

async function monitor<T>(n: Node, pathAndQuery: string): Promise<T> {
  const res = await fetch(`http://127.0.0.1:${n.monitorPort}${pathAndQuery}`, { signal: AbortSignal.timeout(2000) });
  if (!res.ok) throw new Error(`${pathAndQuery}: HTTP ${res.status}`);
  return (await res.json()) as T;
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
