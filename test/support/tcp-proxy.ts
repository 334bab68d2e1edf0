import net from 'node:net';

/**
 * A TCP proxy in front of a real server (Postgres here) that a test can cut and restore: cutting
 * drops every open connection and refuses new ones, exactly what clients see when the server
 * goes down; restoring listens again on the same port.
 */
export class TcpProxy {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async start(port = 0): Promise<void> {
    this.server = net.createServer((client) => {
      const upstream = net.connect(this.targetPort, this.targetHost);
      this.sockets.add(client);
      this.sockets.add(upstream);
      const close = () => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on('error', close).on('close', close);
      upstream.on('error', close).on('close', close);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  /** Drops every connection and stops listening (connection refused from now on). */
  async cut(): Promise<void> {
    const s = this.server;
    this.server = null;
    for (const sock of this.sockets) sock.destroy();
    this.sockets.clear();
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }

  async restore(): Promise<void> {
    await this.start(this.port);
  }

  async close(): Promise<void> {
    await this.cut();
  }
}

/** host and port of a postgres:// URL, and the URL rewritten to go through a local port. */
export function pgTarget(pgUrl: string): { host: string; port: number; via: (port: number) => string } {
  const u = new URL(pgUrl);
  return {
    host: u.hostname,
    port: Number(u.port || 5432),
    via: (port: number) => {
      const v = new URL(pgUrl);
      v.hostname = '127.0.0.1';
      v.port = String(port);
      return v.toString();
    },
  };
}
