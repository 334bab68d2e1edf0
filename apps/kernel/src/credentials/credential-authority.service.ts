import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { connect, credsAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import { readFileSync } from 'node:fs';
import type pino from 'pino';
import type { AgentOsConfig } from '#config';
import { EventTypes, parseNatsUrl, type CredentialRevokedV1 } from '#contracts';
import {
  authorityFromJson,
  encodeApplicationAccount,
  mintSystemUser,
  mintUser,
  pushAccountJwt,
  type NatsAuthority,
  type RevocationList,
} from '#nats-auth';
import { LogQueries } from '#event-store';
import { AGENTOS_CONFIG, ROOT_LOGGER } from '#runtime';

export interface CredentialSettings {
  /** Path of the authority file (`agentos nats-auth init`); null: credentials are not issued here. */
  authorityFile: string | null;
  /** Lifetime of a minted agent credential in seconds (0: no expiry). */
  ttlSeconds: number;
  /** How often revocations recorded in the log are pushed again, in case a push was lost. */
  resyncMs: number;
}
export const CREDENTIAL_SETTINGS = Symbol('CREDENTIAL_SETTINGS');

export interface IssuedCredential {
  publicKey: string;
  creds: string;
  expiresAt: string | null;
}

/**
 * Issues and revokes agents' NATS credentials (decentralised JWT auth) without touching the
 * servers' configuration. Minting is local (the account signing key signs a user JWT). A
 * revocation is recorded in the log first (CredentialRevoked on the agent's stream); the
 * account JWT pushed to the servers is always rebuilt from every revocation in the log, so a
 * lost push is repaired by the next one, and a restarted kernel pushes the same list again.
 */
@Injectable()
export class CredentialAuthority implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly authority: NatsAuthority | null;
  private sys: NatsConnection | null = null;
  private pushing: Promise<void> = Promise.resolve();
  private pushed = '';
  private timer?: NodeJS.Timeout;

  constructor(
    @Inject(CREDENTIAL_SETTINGS) private readonly settings: CredentialSettings,
    private readonly queries: LogQueries,
    @Inject(AGENTOS_CONFIG) private readonly config: AgentOsConfig,
    @Inject(ROOT_LOGGER) private readonly logger: pino.Logger,
  ) {
    this.authority = settings.authorityFile ? authorityFromJson(readFileSync(settings.authorityFile, 'utf8')) : null;
  }

  get enabled(): boolean {
    return this.authority !== null;
  }

  onApplicationBootstrap(): void {
    if (!this.authority) return;
    void this.sync().catch((err) => this.logger.warn({ err: (err as Error).message }, 'revocations not pushed yet'));
    this.timer = setInterval(() => void this.sync().catch(() => undefined), this.settings.resyncMs);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.sys?.close().catch(() => undefined);
  }

  /** A fresh credential for the agent (record its public key before handing the creds out). */
  async issue(agentId: string): Promise<IssuedCredential> {
    const a = this.required();
    const ttl = this.settings.ttlSeconds;
    const u = await mintUser(a, { role: 'agent', agentId }, ttl > 0 ? { expiresInSeconds: ttl } : {});
    return {
      publicKey: u.publicKey,
      creds: u.creds,
      expiresAt: ttl > 0 ? new Date(Date.now() + ttl * 1000).toISOString() : null,
    };
  }

  /**
   * Pushes the account JWT with every revocation recorded in the log, if it changed since the
   * last push. Serialised: two pushes never race to leave the older list on the servers.
   */
  sync(): Promise<void> {
    if (!this.authority) return Promise.resolve();
    const next = this.pushing.catch(() => undefined).then(() => this.push());
    this.pushing = next;
    return next;
  }

  private async push(): Promise<void> {
    const a = this.required();
    const revocations = await this.recordedRevocations();
    const key = JSON.stringify(Object.entries(revocations).sort());
    if (key === this.pushed) return;
    const jwt = await encodeApplicationAccount(a, { ...a.account.revocations, ...revocations });
    await pushAccountJwt(await this.system(), jwt, { operatorPublicKey: a.operator.publicKey });
    this.pushed = key;
    this.logger.info({ revoked: Object.keys(revocations).length }, 'NATS account revocations pushed');
  }

  private async recordedRevocations(): Promise<RevocationList> {
    const out: RevocationList = Object.create(null) as RevocationList;
    for (const data of await this.queries.dataOfType(EventTypes.CredentialRevoked)) {
      let d: Partial<CredentialRevokedV1>;
      try {
        d = JSON.parse(data) as Partial<CredentialRevokedV1>;
      } catch {
        continue; // not JSON: only tampering puts that in the log, and audit verify reports it
      }
      if (typeof d?.publicKey !== 'string' || typeof d.at !== 'string') continue;
      if (typeof d.publicKey !== 'string' || !/^U[A-Z2-7]{55}$/.test(d.publicKey)) continue;
      out[d.publicKey] = Math.max(out[d.publicKey] ?? 0, Math.ceil(Date.parse(d.at) / 1000));
    }
    return out;
  }

  /** A system-account connection to push account JWTs on (minted from the authority). */
  private async system(): Promise<NatsConnection> {
    if (this.sys && !this.sys.isClosed()) return this.sys;
    const a = this.required();
    const user = await mintSystemUser(a);
    const { servers } = parseNatsUrl(this.config.natsUrl);
    this.sys = await connect({
      servers,
      name: `kernel-credentials:${this.config.instanceId}`,
      authenticator: credsAuthenticator(new TextEncoder().encode(user.creds)),
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
    });
    return this.sys;
  }

  private required(): NatsAuthority {
    if (!this.authority) throw new Error('no NATS authority is configured (AGENTOS_NATS_AUTHORITY)');
    return this.authority;
  }
}
