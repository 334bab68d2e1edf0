import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type pino from 'pino';
import type { AgentOsConfig } from '#config';
import { POLICY_STREAM } from '#contracts';
import { PgEventReader, StreamStateCache } from '#event-store';
import type { PolicyInForce } from '#kernel-core';
import { Metrics, Readiness } from '#observability';
import type { Histogram } from 'prom-client';
import { activePolicy, compilePolicy, foldPolicyEvent, type CompiledPolicy, type PolicyState } from '#policy-engine';
import { AGENTOS_CONFIG, CommittedEventsFeed, ROOT_LOGGER } from '#runtime';

/**
 * The policy kernels decide with, folded from the `$policy` stream (a commit hint naming `$policy`
 * reloads it within milliseconds, and a poll twice a second covers a lost hint) and compiled once
 * per version. Decisions themselves are pure (decidePolicy in #kernel-core).
 *
 * Every syscall append carries the condition "`$policy` is still at the activation I decided
 * with". The recorder checks it in the same transaction that writes the event, so in log order
 * every decision after a PolicyApplied/PolicyActivated event names the new version and every
 * decision before it the old one: a switch under load mis-decides nothing.
 *
 * Until a policy is applied every syscall is allowed (permissive, as the seed without a policy
 * engine), or denied with AGENTOS_FAIL_CLOSED.
 */
@Injectable()
export class PolicyGate implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly cache: StreamStateCache<PolicyState>;
  private readonly compiled = new Map<number, CompiledPolicy>();
  private current: PolicyInForce | null = null;
  private poller?: NodeJS.Timeout;
  private readonly switchDelay: Histogram<string>;

  constructor(
    private readonly reader: PgEventReader,
    feed: CommittedEventsFeed,
    @Inject(Readiness) readiness: Readiness,
    @Inject(Metrics) metrics: Metrics,
    @Inject(AGENTOS_CONFIG) private readonly config: AgentOsConfig,
    @Inject(ROOT_LOGGER) private readonly logger: pino.Logger,
  ) {
    this.cache = new StreamStateCache<PolicyState>(reader, { fold: foldPolicyEvent, clone: (s) => s });
    this.switchDelay = metrics.histogram(
      'agentos_policy_switch_seconds',
      'From a policy apply or rollback to this kernel deciding with it',
    );
    feed.onCommitted((hint) => {
      const moved = hint.s.find(([stream]) => stream === POLICY_STREAM);
      if (moved && (!this.current || moved[1] > this.current.activation)) void this.refresh().catch(() => undefined);
    });
    readiness.add('policy', () => (this.current ? true : 'the active policy is not loaded yet'));
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

  /** The policy for the next decision; null until it could be loaded (decide nothing then). */
  inForce(): PolicyInForce | null {
    return this.current;
  }

  async refresh(): Promise<PolicyInForce> {
    const c = await this.cache.refresh(POLICY_STREAM);
    const state = c.state;
    const active = state ? activePolicy(state) : null;
    let compiled: CompiledPolicy | null = null;
    let unusable: string | null = null;
    if (active) {
      try {
        if (!active.document) throw new Error('its document is unreadable in the log');
        compiled = this.compiled.get(active.version) ?? compilePolicy(active.document);
        this.remember(active.version, compiled);
      } catch (err) {
        unusable = `policy version ${active.version} cannot decide: ${(err as Error).message}`;
        this.logger.error({ version: active.version, err: (err as Error).message }, 'active policy unusable; denying');
      }
    } else if (state && state.activeVersion !== null) {
      unusable = `policy version ${state.activeVersion} was never applied`;
    }
    const next: PolicyInForce = {
      activation: c.version,
      version: state?.activeVersion ?? null,
      hash: active?.hash ?? null,
      compiled,
      unusable,
      failClosed: this.config.failClosed,
    };
    if (!this.current || next.activation > this.current.activation) {
      if (this.current && this.current.version !== next.version) {
        const at = state?.history.at(-1)?.at;
        const delayMs = at ? Math.max(0, Date.now() - Date.parse(at)) : null;
        if (delayMs !== null) this.switchDelay.observe(delayMs / 1000);
        this.logger.info(
          { from: this.current.version, to: next.version, activation: next.activation, delayMs },
          'policy switched',
        );
      }
      this.current = next;
    }
    return this.current;
  }

  /** Compiled versions, newest kept: a long history of versions must not grow memory. */
  private remember(version: number, compiled: CompiledPolicy): void {
    this.compiled.delete(version);
    this.compiled.set(version, compiled);
    while (this.compiled.size > 8) this.compiled.delete(this.compiled.keys().next().value as number);
  }

  private async poll(): Promise<void> {
    try {
      const latest = await this.reader.streamVersion(POLICY_STREAM);
      if (!this.current || latest > this.current.activation) await this.refresh();
    } catch {
      // Postgres unreachable: syscalls answer -7 meanwhile; try again on the next tick
    }
  }
}
