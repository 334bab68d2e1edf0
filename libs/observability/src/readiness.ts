/** A named check that says whether this process can do its work now. */
export type ReadinessCheck = () => Promise<true | string> | true | string;

/** Collects readiness checks from the parts of a service (NATS, Postgres, caught-up state...). */
export class Readiness {
  private readonly checks = new Map<string, ReadinessCheck>();
  private shuttingDown = false;

  add(name: string, check: ReadinessCheck): void {
    this.checks.set(name, check);
  }

  /** Once set, the service reports not ready so that load balancers stop sending work. */
  markShuttingDown(): void {
    this.shuttingDown = true;
  }

  async evaluate(): Promise<{ ready: boolean; checks: Record<string, string> }> {
    const checks: Record<string, string> = {};
    let ready = !this.shuttingDown;
    if (this.shuttingDown) checks.shutdown = 'shutting down';
    for (const [name, check] of this.checks) {
      try {
        const r = await Promise.race([
          Promise.resolve(check()),
          new Promise<string>((res) => setTimeout(() => res('check timed out'), 2000).unref()),
        ]);
        checks[name] = r === true ? 'ok' : r;
        if (r !== true) ready = false;
      } catch (err) {
        checks[name] = (err as Error).message;
        ready = false;
      }
    }
    return { ready, checks };
  }
}
