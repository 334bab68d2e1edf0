import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { AgentOsConfig } from '#config';
import {
  ErrorCode,
  EventTypes,
  POLICY_STREAM,
  formatPosition,
  ProtocolError,
  type PolicyActivatedV1,
  type PolicyAppliedV1,
} from '#contracts';
import { PartitionedLog, PgEventReader, StreamStateCache, type NewEvent } from '#event-store';
import {
  activePolicy,
  diffPolicies,
  normalizePolicy,
  parsePolicyDocument,
  policyContentHash,
  emptyPolicyState,
  foldPolicyEvent,
  type PolicyDiff,
  type PolicyDocument,
  type PolicyError,
  type PolicyState,
  type PolicyVersionRecord,
} from '#policy-engine';
import { AGENTOS_CONFIG, CommittedEventsFeed, StreamCommandHandler } from '#runtime';

export type ValidateResult =
  | { valid: true; name: string; hash: string; importedFrom?: 'seed'; knownVersion: number | null }
  | { valid: false; errors: PolicyError[] };

export interface ApplyResult {
  status: 'applied' | 'activated' | 'unchanged';
  version: number;
  hash: string;
  /** Position in `$policy`: every decision recorded after it uses this version. */
  activation: number;
  position: string | null;
}

/**
 * Policy versions as events on `$policy`. Applying validates first (an invalid document never
 * becomes a version); new content gets the next version number; content seen before is
 * re-activated under its old number; applying the active content changes nothing. Several
 * policy replicas serialise on the stream's expected version.
 */
@Injectable()
export class PolicyStore {
  private readonly cache: StreamStateCache<PolicyState>;
  private readonly host = os.hostname();

  constructor(
    reader: PgEventReader,
    private readonly log: PartitionedLog,
    feed: CommittedEventsFeed,
    private readonly commands: StreamCommandHandler,
    @Inject(AGENTOS_CONFIG) private readonly config: AgentOsConfig,
  ) {
    this.cache = new StreamStateCache<PolicyState>(reader, { fold: foldPolicyEvent, clone: (s) => s });
    feed.onCommitted((hint) => {
      for (const [stream, version] of hint.s) if (stream === POLICY_STREAM) this.cache.moved(stream, version);
    });
  }

  async state(): Promise<PolicyState> {
    const c = await this.cache.refresh(POLICY_STREAM);
    return c.state ?? { ...emptyPolicyState(), activation: c.version };
  }

  async validate(text: string, format: 'yaml' | 'json' = 'yaml'): Promise<ValidateResult> {
    const r = parsePolicyDocument(text, format);
    if (!r.ok) return { valid: false, errors: r.errors };
    const hash = policyContentHash(r.document);
    const known = (await this.state()).versions.find((v) => v.hash === hash);
    return {
      valid: true,
      name: r.document.name,
      hash,
      ...(r.importedFrom ? { importedFrom: r.importedFrom } : {}),
      knownVersion: known?.version ?? null,
    };
  }

  async apply(
    text: string,
    format: 'yaml' | 'json' = 'yaml',
    appliedBy = 'operator',
    reason = '',
  ): Promise<ApplyResult> {
    const parsed = parsePolicyDocument(text, format);
    if (!parsed.ok) {
      throw new ProtocolError(ErrorCode.INVALID_REQUEST, `invalid policy: ${describe(parsed.errors)}`, {
        errors: parsed.errors,
      });
    }
    const hash = policyContentHash(parsed.document);
    return this.onPolicy((s) => {
      const active = activePolicy(s);
      if (active?.hash === hash)
        return { status: 'unchanged', version: active.version, hash, activation: s.activation, position: null };
      const at = new Date().toISOString();
      const known = s.versions.find((v) => v.hash === hash);
      if (known) {
        const data: PolicyActivatedV1 = {
          version: known.version,
          hash,
          previousVersion: s.activeVersion,
          appliedBy,
          reason: reason || 're-applied',
          at,
        };
        return {
          status: 'activated',
          event: this.event(EventTypes.PolicyActivated, data),
          version: known.version,
          hash,
        };
      }
      const version = (s.versions.at(-1)?.version ?? 0) + 1;
      const data: PolicyAppliedV1 = {
        version,
        hash,
        name: parsed.document.name,
        document: parsed.document as unknown as Record<string, unknown>,
        source: text,
        format,
        appliedBy,
        reason,
        at,
      };
      return { status: 'applied', event: this.event(EventTypes.PolicyApplied, data), version, hash };
    });
  }

  async rollback(version: number, appliedBy = 'operator', reason = ''): Promise<ApplyResult> {
    return this.onPolicy((s) => {
      const target = s.versions.find((v) => v.version === version);
      if (!target) throw new ProtocolError(ErrorCode.INVALID_REQUEST, `there is no policy version ${version}`);
      if (s.activeVersion === version)
        return { status: 'unchanged', version, hash: target.hash, activation: s.activation, position: null };
      const data: PolicyActivatedV1 = {
        version,
        hash: target.hash,
        previousVersion: s.activeVersion,
        appliedBy,
        reason: reason || `rollback to version ${version}`,
        at: new Date().toISOString(),
      };
      return { status: 'activated', event: this.event(EventTypes.PolicyActivated, data), version, hash: target.hash };
    });
  }

  /**
   * One change of `$policy` through the command handler: decided on the stream's state, appended
   * at its activation (several policy replicas serialise on it), retried when another won.
   */
  private onPolicy(
    decide: (
      s: PolicyState,
    ) => ApplyResult | { status: 'applied' | 'activated'; event: NewEvent; version: number; hash: string },
  ): Promise<ApplyResult> {
    return this.commands.run<ApplyResult>(
      {
        attempt: async () => {
          const s = await this.state();
          const d = decide(s);
          if (!('event' in d)) return { answer: d };
          return {
            append: { appends: [{ streamId: POLICY_STREAM, expectedVersion: s.activation, events: [d.event] }] },
            done: (committed) => ({
              status: d.status,
              version: d.version,
              hash: d.hash,
              activation: committed![0].streamVersion,
              position: formatPosition(committed![0].partition ?? 0, committed![0].position, this.log.partitions),
            }),
          };
        },
        duplicate: () => {
          throw new ProtocolError(ErrorCode.UNAVAILABLE, 'the policy change was already recorded; list the versions');
        },
        failed: (f) => {
          throw notRecorded(f);
        },
        exhausted: () => {
          throw new ProtocolError(ErrorCode.UNAVAILABLE, 'policy changed concurrently too often; try again');
        },
      },
      { ms: 10_000, attempts: 10 },
    );
  }

  async list(): Promise<{
    activeVersion: number | null;
    activation: number;
    versions: Omit<PolicyVersionRecord, 'document' | 'source'>[];
  }> {
    const s = await this.state();
    return {
      activeVersion: s.activeVersion,
      activation: s.activation,
      versions: s.versions.map(({ document: _d, source: _s, ...v }) => ({
        ...v,
        active: v.version === s.activeVersion,
      })),
    };
  }

  async show(version?: number): Promise<PolicyVersionRecord & { active: boolean; normalized: unknown }> {
    const s = await this.state();
    const v = version === undefined ? activePolicy(s) : s.versions.find((x) => x.version === version);
    if (!v)
      throw new ProtocolError(
        ErrorCode.INVALID_REQUEST,
        version === undefined ? 'no policy has been applied' : `there is no policy version ${version}`,
      );
    return { ...v, active: v.version === s.activeVersion, normalized: normalizePolicy(readable(v)) };
  }

  async diff(from: number, to?: number): Promise<PolicyDiff & { from: number; to: number }> {
    const s = await this.state();
    const a = s.versions.find((v) => v.version === from);
    const toVersion = to ?? s.activeVersion;
    const b = s.versions.find((v) => v.version === toVersion);
    if (!a || !b)
      throw new ProtocolError(ErrorCode.INVALID_REQUEST, `there is no policy version ${!a ? from : toVersion}`);
    return {
      from: a.version,
      to: b.version,
      ...diffPolicies(normalizePolicy(readable(a)), normalizePolicy(readable(b))),
    };
  }

  private event(type: string, data: unknown): NewEvent {
    return {
      eventId: randomUUID(),
      type,
      schemaVersion: 1,
      data: data as NewEvent['data'],
      metadata: { host: this.host, service: 'policy', instanceId: this.config.instanceId, ring: 0 },
    };
  }
}

/** A version's document, or -5 when the recorded one could not be read. */
function readable(v: PolicyVersionRecord): PolicyDocument {
  if (!v.document)
    throw new ProtocolError(ErrorCode.INVALID_REQUEST, `policy version ${v.version} is unreadable in the log`);
  return v.document;
}

function describe(errors: PolicyError[]): string {
  return errors
    .slice(0, 5)
    .map((e) => `${e.line ? `line ${e.line}: ` : ''}${e.field || '(document)'}: ${e.message}`)
    .join('; ');
}

/** -5 when the recorder refused the version (it never will be recorded), -7 when it could not record it now. */
function notRecorded(out: { status: string; message?: string; reason?: string }): ProtocolError {
  if (out.status === 'rejected') return new ProtocolError(ErrorCode.INVALID_REQUEST, `not recorded: ${out.reason}`);
  return new ProtocolError(ErrorCode.UNAVAILABLE, out.message ?? out.reason ?? `append ${out.status}`);
}
