import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import readline from 'node:readline';

export type ServiceName = 'kernel' | 'policy' | 'recorder' | 'vfs';

export interface ServiceProcessOptions {
  service: ServiceName;
  env: Record<string, string>;
  /** Also append every output line here. */
  logFile?: string;
  startTimeoutMs?: number;
}

// Compiled: dist/libs/devstack/src; from source (tests): libs/devstack/src. Services always run compiled.
const UP = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const DIST_ROOT = path.basename(UP) === 'dist' ? UP : path.join(UP, 'dist');

/** Path of a service's compiled entry point (dist/apps/<service>/src/main.js). */
export function serviceEntryPoint(service: ServiceName): string {
  return path.join(DIST_ROOT, 'apps', service, 'src', 'main.js');
}

/**
 * One service running as its own OS process, as in production: started from the compiled
 * entry point, considered up when it logs "service ready", stopped with SIGTERM (graceful drain)
 * or killed with SIGKILL.
 */
export class ServiceProcess {
  readonly lines: string[] = [];
  httpPort = 0;
  private exited: Promise<number | null>;
  private exitCode: number | null | undefined;
  private log?: WriteStream;

  private constructor(
    readonly service: ServiceName,
    private readonly child: ChildProcess,
    logFile?: string,
  ) {
    if (logFile) this.log = createWriteStream(logFile, { flags: 'a' });
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitCode = code ?? (signal ? null : 0);
        this.log?.end();
        resolve(this.exitCode);
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  static async start(o: ServiceProcessOptions): Promise<ServiceProcess> {
    // AGENTOS_NODE_ARGS: extra Node flags for the services (e.g. --cpu-prof when profiling).
    const nodeArgs = (process.env.AGENTOS_NODE_ARGS ?? '').split(' ').filter(Boolean);
    const child = spawn(process.execPath, [...nodeArgs, serviceEntryPoint(o.service)], {
      env: { ...process.env, AGENTOS_LOG_FORMAT: 'json', AGENTOS_HTTP_PORT: '0', ...o.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const sp = new ServiceProcess(o.service, child, o.logFile);
    const ready = new Promise<void>((resolve, reject) => {
      const onLine = (line: string) => {
        sp.lines.push(line);
        if (sp.lines.length > 500) sp.lines.shift();
        sp.log?.write(line + '\n');
        if (sp.httpPort === 0 && line.includes('"service ready"')) {
          try {
            sp.httpPort = (JSON.parse(line) as { httpPort: number }).httpPort;
          } catch {
            sp.httpPort = -1;
          }
          resolve();
        }
      };
      readline.createInterface({ input: child.stdout! }).on('line', onLine);
      readline.createInterface({ input: child.stderr! }).on('line', onLine);
      void sp.exited.then((code) =>
        reject(new Error(`${o.service} exited with ${code} before it was ready:\n${sp.lines.slice(-20).join('\n')}`)),
      );
    });
    const timeout = o.startTimeoutMs ?? 30_000;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        ready,
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`${o.service} not ready after ${timeout} ms:\n${sp.lines.slice(-20).join('\n')}`)),
            timeout,
          );
        }),
      ]);
    } catch (err) {
      sp.child.kill('SIGKILL');
      throw err;
    } finally {
      clearTimeout(timer);
    }
    return sp;
  }

  /** Graceful stop (SIGTERM: drain, then exit); SIGKILL after the timeout. Resolves with the exit code. */
  async stop(timeoutMs = 20_000): Promise<number | null> {
    if (!this.running) return this.exitCode ?? null;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGKILL: no drain, no cleanup, as a crash or an OOM kill. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** Freezes (SIGSTOP) or resumes (SIGCONT) the process, as a long GC pause or a hung host would. */
  pause(): void {
    this.child.kill('SIGSTOP');
  }

  resume(): void {
    this.child.kill('SIGCONT');
  }
}
