import type { Command } from 'commander';
import type { CliOutput } from '../output.js';

/**
 * `agentos health`: asks a service's readiness endpoint and exits 0 only when it is ready. Used
 * as the container health check (the images carry no curl or wget), and by operators.
 */
export function registerHealth(program: Command, out: CliOutput): void {
  program
    .command('health')
    .description("exit 0 when a service's /health/ready says ready (container health checks)")
    .option('--port <port>', 'the service HTTP port (8081 kernel, 8082 policy, 8083 recorder, 8084 vfs)', '8081')
    .option('--host <host>', 'the service host', '127.0.0.1')
    .option('--timeout <ms>', 'give up after this many milliseconds', '3000')
    .action(async (o: { port: string; host: string; timeout: string }) => {
      const url = `http://${o.host}:${Number(o.port)}/health/ready`;
      let status = 0;
      let body: unknown = null;
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(Number(o.timeout)) });
        status = res.status;
        body = await res.json().catch(() => null);
      } catch (err) {
        throw new Error(`${url}: ${(err as Error).message}`);
      }
      const ready = status === 200;
      out.result(
        { url, ready, status, body },
        `${url}: ${ready ? 'ready' : `not ready (${status}) ${JSON.stringify(body)}`}`,
      );
      if (!ready) process.exitCode = 1;
    });
}
