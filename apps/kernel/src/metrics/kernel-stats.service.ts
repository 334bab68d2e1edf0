import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '#runtime';

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
  /** Log position the figures are computed up to. */
  position: string;
}

interface Tally {
  syscalls: number;
  policyChecks: number;
  violations: number;
  shadow: number;
  crashes: number;
  created: number;
  terminated: number;
}

/**
 * Counts over the log, kept incrementally: each request aggregates only the events committed
 * since the previous one (a range scan on position), so the cost does not grow with history.
 * Each fact is counted once (the seed counted policy checks and violations twice per call, and
 * its to_dict returned the type `int` for crashes).
 */
@Injectable()
export class KernelStatsService {
  private upTo = 0;
  private tally: Tally = {
    syscalls: 0,
    policyChecks: 0,
    violations: 0,
    shadow: 0,
    crashes: 0,
    created: 0,
    terminated: 0,
  };
  private running: Promise<KernelStats> | null = null;

  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}

  snapshot(): Promise<KernelStats> {
    this.running ??= this.compute().finally(() => (this.running = null));
    return this.running;
  }

  private async compute(): Promise<KernelStats> {
    const head = (await this.pool.query('SELECT position FROM log_head')).rows[0].position as number;
    if (head > this.upTo) {
      const r = await this.pool.query(
        `WITH e AS (SELECT type, event_json(data) AS d FROM events WHERE position > $1 AND position <= $2)
         SELECT
           count(*) FILTER (WHERE type = 'SyscallRecorded') AS syscalls,
           count(*) FILTER (WHERE type = 'SyscallRecorded' AND d->'decision'->>'mode' <> 'skipped') AS policy_checks,
           count(*) FILTER (WHERE type = 'SyscallRecorded' AND d->'decision'->>'mode' <> 'skipped'
                              AND (d->'decision'->>'allowed')::boolean = false) AS violations,
           count(*) FILTER (WHERE type = 'SyscallRecorded' AND (d->'decision'->>'shadow')::boolean) AS shadow,
           count(*) FILTER (WHERE type = 'SyscallRecorded' AND d->'result'->>'errorCode' = '-4') AS crashes,
           count(*) FILTER (WHERE type = 'AgentCreated') AS created,
           count(*) FILTER (WHERE (type = 'SignalDelivered' AND d->>'transition' = 'terminated')
                              OR type = 'AgentDestroyed'
                              OR (type = 'SyscallRecorded' AND d->'kernel'->>'op' = 'exit'
                                  AND (d->'result'->>'success')::boolean)) AS terminated
         FROM e`,
        [this.upTo, head],
      );
      const row = r.rows[0] as Record<string, string>;
      this.tally.syscalls += Number(row.syscalls);
      this.tally.policyChecks += Number(row.policy_checks);
      this.tally.violations += Number(row.violations);
      this.tally.shadow += Number(row.shadow);
      this.tally.crashes += Number(row.crashes);
      this.tally.created += Number(row.created);
      this.tally.terminated += Number(row.terminated);
      this.upTo = head;
    }
    return {
      syscallCount: this.tally.syscalls,
      policyChecks: this.tally.policyChecks,
      policyViolations: this.tally.violations,
      shadowViolations: this.tally.shadow,
      agentCrashes: this.tally.crashes,
      kernelPanics: 0,
      uptimeSeconds: Math.round(process.uptime() * 1000) / 1000,
      activeAgents: this.tally.created - this.tally.terminated,
      position: String(this.upTo),
    };
  }
}
