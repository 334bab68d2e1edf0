import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type pino from 'pino';
import type { Histogram } from 'prom-client';
import type { AgentOsConfig } from '#config';
import { EventTypes, POLICY_STREAM, agentStream, policyFenceStream } from '#contracts';
import { PartitionedLog, PgEventReader, StreamStateCache } from '#event-store';
import { fenceFor, foldPolicyFence, policyInForce, type FenceState, type PolicyInForce } from '#kernel-core';
import { Metrics, Readiness } from '#observability';
import { compilePolicy, foldPolicyEvent, type CompiledPolicy, type PolicyState } from '#policy-engine';
import { AGENTOS_CONFIG, CommittedEventsFeed, RecorderClient, ROOT_LOGGER } from '#runtime';

/**
 * The policy kernels decide with, per partition. `$policy` (partition 0) holds every version's
 * document and which is active; each other partition p has a fence stream `$policy@p` whose
 * PolicyFence events say which `$policy` activation is in force there. Commit hints naming these
 * streams reload them within milliseconds, and a poll twice a second covers a lost hint. Each
 * version is compiled once; decisions themselves are pure (decidePolicy in #kernel-core).
 *
 * Every syscall append carries the condition "my partition's fence is still at the version I
 * decided with". The recorder checks it in the transaction that writes the event, so in each
 * partition's order every decision after a switch (PolicyApplied/PolicyActivated in partition 0,
 * a PolicyFence elsewhere) names the new version and every decision before it the old one: a
 * switch under load mis-decides nothing. When `$policy` moves, this gate writes the fences that
 * bring the other partitions up to it (idempotent: several kernels may race to write the same
 * fence; one wins, and the others see it).
 *
 * Until a policy is applied every syscall is allowed (permissive, as the seed without a policy
 * engine), or denied with AGENTOS_FAIL_CLOSED.
 */
@Injectable()
export class PolicyGate implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly policyCache: StreamStateCache<PolicyState>;
  private readonly fenceCache: StreamStateCache<FenceState>;
  private readonly compiled = new Map<number, CompiledPolicy>();
  private policy: { state: PolicyState | null; version: number } | null = null;
  /** The policy in force per partition; null until loaded. */
  private readonly current: (PolicyInForce | null)[];
  /** Each partition's fence as last read (partition 0 has none: `$policy` is its own fence). */
  private readonly fences: (FenceState | null)[];
  private poller?: NodeJS.Timeout;
  private refreshing: Promise<void> | null = null;
  private readonly switchDelay: Histogram<string>;
  private readonly host = os.hostname();

  constructor(
    private readonly reader: PgEventReader,
    private readonly log: PartitionedLog,
    private readonly recorder: RecorderClient,
    feed: CommittedEventsFeed,
    @Inject(Readiness) readiness: Readiness,
    @Inject(Metrics) metrics: Metrics,
    @Inject(AGENTOS_CONFIG) private readonly config: AgentOsConfig,
    @Inject(ROOT_LOGGER) private readonly logger: pino.Logger,
  ) {
    this.policyCache = new StreamStateCache<PolicyState>(reader, { fold: foldPolicyEvent, clone: (s) => s });
    this.fenceCache = new StreamStateCache<FenceState>(reader, { fold: foldPolicyFence, clone: (s) => ({ ...s }) });
    this.current = log.all().map(() => null);
    this.fences = log.all().map(() => null);
    this.switchDelay = metrics.histogram(
      'agentos_policy_switch_seconds',
      'From a policy apply or rollback to this kernel deciding with it',
    );
    feed.onCommitted((hint) => {
      for (const [stream, version] of hint.s) {
        if (stream !== POLICY_STREAM && !stream.startsWith(`${POLICY_STREAM}@`)) continue;
        const p = stream === POLICY_STREAM ? 0 : this.fencePartition(stream);
        if (p === null) continue;
        const known = p === 0 ? this.policy?.version : this.current[p]?.activation;
        if (known === undefined || version > known) void this.refresh().catch(() => undefined);
      }
    });
    readiness.add('policy', () =>
      this.current.every(Boolean) ? true : 'the active policy is not loaded for every partition yet',
    );
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.refresh().catch((err) =>
      this.logger.warn({ err: (err as Error).message }, 'policy not loaded yet; retrying'),
    );
    this.poller = setInterval(() => void this.poll(), 500);
    this.poller.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.poller);
  }

  /** The policy for the next decision in a partition; null until it could be loaded (decide nothing then). */
  inForce(partition = 0): PolicyInForce | null {
    return this.current[partition] ?? null;
  }

  /** The policy for the next decision on an agent (in its partition). */
  forAgent(agentId: string): PolicyInForce | null {
    return this.inForce(this.log.partitionOf(agentStream(agentId)));
  }

  /** Reloads `$policy` and every fence (writing the fences that are behind); one at a time. */
  refresh(): Promise<void> {
    this.refreshing ??= this.load().finally(() => (this.refreshing = null));
    return this.refreshing;
  }

  private async load(): Promise<void> {
    const c = await this.policyCache.refresh(POLICY_STREAM);
    this.policy = { state: c.state, version: c.version };
    this.install(0, c.state?.activeVersion ?? null, c.version, c.state);
    await Promise.all(
      this.log
        .all()
        .slice(1)
        .map((p) => this.loadFence(p)),
    );
  }

  /** Partition p's fence: brought up to `$policy` if it is behind, then put in force. */
  private async loadFence(p: number): Promise<void> {
    const stream = policyFenceStream(p);
    for (let attempt = 0; attempt < 4; attempt++) {
      let f = await this.fenceCache.refresh(stream);
      if (f.state && f.state.activation > (this.policy?.version ?? 0)) {
        // another kernel fenced a `$policy` this one has not loaded yet: load it for the documents
        const c = await this.policyCache.refresh(POLICY_STREAM);
        this.policy = { state: c.state, version: c.version };
      }
      const policy = this.policy?.state;
      const next = policy ? fenceFor(policy, f.state, new Date().toISOString()) : null;
      if (next) {
        const out = await this.recorder.append({
          appends: [
            {
              streamId: stream,
              expectedVersion: f.version,
              events: [
                {
                  eventId: randomUUID(),
                  type: EventTypes.PolicyFence,
                  schemaVersion: 1,
                  idempotencyKey: `fence:${next.activation}`,
                  data: { ...next },
                  metadata: { host: this.host, service: 'kernel', instanceId: this.config.instanceId },
                },
              ],
            },
          ],
        });
        if (out.status === 'conflict') continue; // another kernel wrote a fence: read it
        if (out.status !== 'committed') {
          // keep deciding with the fence as it is (still a correct order); the poll tries again
          this.logger.warn({ partition: p, outcome: out }, 'policy fence not written yet');
        }
        f = await this.fenceCache.refresh(stream);
      }
      this.fences[p] = f.state;
      this.install(p, f.state?.activeVersion ?? null, f.version, this.policy?.state ?? null);
      return;
    }
  }

  private install(p: number, activeVersion: number | null, activation: number, policy: PolicyState | null): void {
    const before = this.current[p];
    if (before && before.activation >= activation) return;
    const next = policyInForce({
      policy,
      activeVersion,
      fenceStream: policyFenceStream(p),
      activation,
      failClosed: this.config.failClosed,
      compile: (version, document) => {
        const compiled = this.compiled.get(version) ?? compilePolicy(document);
        this.remember(version, compiled);
        return compiled;
      },
    });
    if (next.unusable && next.unusable !== before?.unusable) {
      this.logger.error({ partition: p, version: next.version, err: next.unusable }, 'active policy unusable; denying');
    }
    if (before && before.version !== next.version) {
      const at = policy?.history.at(-1)?.at;
      const delayMs = at ? Math.max(0, Date.now() - Date.parse(at)) : null;
      if (delayMs !== null) this.switchDelay.observe(delayMs / 1000);
      this.logger.info(
        { partition: p, from: before.version, to: next.version, activation: next.activation, delayMs },
        'policy switched',
      );
    }
    this.current[p] = next;
  }

  /** Compiled versions, newest kept: a long history of versions must not grow memory. */
  private remember(version: number, compiled: CompiledPolicy): void {
    this.compiled.delete(version);
    this.compiled.set(version, compiled);
    while (this.compiled.size > 8) this.compiled.delete(this.compiled.keys().next().value as number);
  }

  private fencePartition(stream: string): number | null {
    const p = Number(stream.slice(POLICY_STREAM.length + 1));
    return Number.isInteger(p) && p > 0 && p < this.current.length ? p : null;
  }

  private async poll(): Promise<void> {
    try {
      const versions = await Promise.all(
        this.log.all().map((p) => this.reader.streamVersion(p === 0 ? POLICY_STREAM : policyFenceStream(p))),
      );
      const behind =
        !this.policy ||
        versions[0] > this.policy.version ||
        versions.some((v, p) => p > 0 && (!this.current[p] || v > this.current[p]!.activation)) ||
        // a fence still behind `$policy` (its write failed before): try again
        this.fences.some((f, p) => p > 0 && (f?.activation ?? 0) < this.policy!.version);
      if (behind) await this.refresh();
    } catch {
      // Postgres unreachable: syscalls answer -7 meanwhile; try again on the next tick
    }
  }
}
