import { Injectable } from '@nestjs/common';
import { formatPosition } from '#contracts';
import { LogQueries, type LogTally } from '#event-store';

/** The seed's kernel metrics, derived from the log so they survive restarts and agree across replicas. */
export interface KernelStats {
  syscallCount: number;
  policyChecks: number;
  policyViolations: number;
  shadowViolations: number;
  agentCrashes: number;
  kernelPanics: number;
  uptimeSeconds: number;
  activeAgents: number;
  /** Log position the figures are computed up to (`p:offset` per partition, comma-separated, with several). */
  position: string;
}

const ZERO: LogTally = {
  syscalls: 0,
  policyChecks: 0,
  violations: 0,
  shadow: 0,
  crashes: 0,
  created: 0,
  terminated: 0,
};

/**
 * Counts over the log, kept incrementally per partition: each request aggregates only the events
 * committed since the previous one (a range scan on position), so the cost does not grow with
 * history. Each fact is counted once (the seed counted policy checks and violations twice per
 * call, and its to_dict returned the type `int` for crashes).
 */
@Injectable()
export class KernelStatsService {
  private upTo: number[] = [];
  private tally: LogTally = { ...ZERO };
  private running: Promise<KernelStats> | null = null;

  constructor(private readonly queries: LogQueries) {}

  snapshot(): Promise<KernelStats> {
    this.running ??= this.compute().finally(() => (this.running = null));
    return this.running;
  }

  private async compute(): Promise<KernelStats> {
    const partitions = this.queries.partitions;
    const ranges = await Promise.all(
      Array.from({ length: partitions }, async (_, p) => {
        const head = await this.queries.headPosition(p);
        const after = this.upTo[p] ?? 0;
        return { p, head, add: head > after ? await this.queries.tally(p, after, head) : ZERO };
      }),
    );
    for (const { p, head, add } of ranges) {
      for (const k of Object.keys(ZERO) as (keyof LogTally)[]) this.tally[k] += add[k];
      this.upTo[p] = Math.max(this.upTo[p] ?? 0, head);
    }
    const t = this.tally;
    return {
      syscallCount: t.syscalls,
      policyChecks: t.policyChecks,
      policyViolations: t.violations,
      shadowViolations: t.shadow,
      agentCrashes: t.crashes,
      kernelPanics: 0,
      uptimeSeconds: Math.round(process.uptime() * 1000) / 1000,
      activeAgents: t.created - t.terminated,
      position: ranges.map(({ p }) => formatPosition(p, this.upTo[p], partitions)).join(','),
    };
  }
}
