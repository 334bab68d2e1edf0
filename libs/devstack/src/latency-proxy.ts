import net from 'node:net';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

export interface LatencyProxySettings {
  targetHost: string;
  targetPort: number;
  /** Added to every chunk, each way (so a round trip gains twice this). */
  delayMs: number;
}

/**
 * A TCP proxy that delays every chunk by `delayMs` in each direction, in order: a server in
 * another zone, on loopback. Runs in a worker thread of its own, so its work never shares an
 * event loop with the load it measures.
 */
export class LatencyProxy {
  private constructor(
    private readonly worker: Worker,
    readonly port: number,
  ) {}

  static async start(s: LatencyProxySettings): Promise<LatencyProxy> {
    const worker = new Worker(new URL(import.meta.url), { workerData: { latencyProxy: s } });
    const port = await new Promise<number>((resolve, reject) => {
      worker.once('message', (m: { port: number }) => resolve(m.port));
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`latency proxy exited (${code})`)));
    });
    return new LatencyProxy(worker, port);
  }

  /** A postgres:// URL with its host and port replaced by the proxy's. */
  static via(url: string, port: number): string {
    const u = new URL(url);
    u.hostname = '127.0.0.1';
    u.port = String(port);
    return u.toString();
  }

  async stop(): Promise<void> {
    await this.worker.terminate();
  }
}

/** In the worker: listen on a free loopback port, tell the parent which. */
export async function serveLatencyProxy(s: LatencyProxySettings, ready: (port: number) => void): Promise<void> {
  const server = net.createServer((client) => {
    client.setNoDelay(true);
    const upstream = net.connect(s.targetPort, s.targetHost);
    upstream.setNoDelay(true);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
    delayed(client, upstream, s.delayMs);
    delayed(upstream, client, s.delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  ready((server.address() as net.AddressInfo).port);
}

/** Forwards `from` to `to`, each chunk `delayMs` after it arrived, never out of order. */
function delayed(from: net.Socket, to: net.Socket, delayMs: number): void {
  const queue: { at: number; chunk: Buffer }[] = [];
  let timer: NodeJS.Timeout | null = null;
  const flush = () => {
    timer = null;
    const now = performance.now();
    while (queue.length > 0 && queue[0].at <= now) to.write(queue.shift()!.chunk);
    if (queue.length > 0) timer = setTimeout(flush, Math.max(0, queue[0].at - now));
  };
  from.on('data', (chunk: Buffer) => {
    queue.push({ at: performance.now() + delayMs, chunk });
    timer ??= setTimeout(flush, delayMs);
  });
}

// the worker's entry: this same module, started with workerData
if (!isMainThread && (workerData as { latencyProxy?: LatencyProxySettings } | null)?.latencyProxy) {
  void serveLatencyProxy((workerData as { latencyProxy: LatencyProxySettings }).latencyProxy, (port) =>
    parentPort!.postMessage({ port }),
  );
}
