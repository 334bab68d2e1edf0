import { EventTypes, type PolicyFenceV1 } from '#contracts';
import { activePolicy, type CompiledPolicy, type PolicyDocument, type PolicyState } from '#policy-engine';
import type { PolicyInForce } from './policy-in-force.js';

/** What a partition's fence says: the `$policy` activation and the policy version it put in force. */
export interface FenceState {
  activation: number;
  activeVersion: number | null;
  hash: string | null;
}

/**
 * Folds one event of a `$policy@<p>` stream: the latest readable PolicyFence wins. Total: an
 * event it cannot read leaves the fence where it was (the version still moves, so decisions stay
 * fenced on the stream as recorded).
 */
export function foldPolicyFence(
  s: FenceState | null,
  e: { type: string; schemaVersion?: number; data: unknown },
): FenceState | null {
  if (e.type !== EventTypes.PolicyFence || (e.schemaVersion ?? 1) !== 1) return s;
  const d = e.data as Partial<PolicyFenceV1> | null;
  if (d === null || typeof d !== 'object' || !Number.isSafeInteger(d.activation)) return s;
  const activeVersion = Number.isSafeInteger(d.activeVersion) ? (d.activeVersion as number) : null;
  return { activation: d.activation as number, activeVersion, hash: typeof d.hash === 'string' ? d.hash : null };
}

/** The fence that brings a partition up to `$policy` as folded, or null when it is there already. */
export function fenceFor(policy: PolicyState, fence: FenceState | null, at: string): PolicyFenceV1 | null {
  if (fence && fence.activation >= policy.activation) return null;
  if (!fence && policy.activation === 0) return null;
  return {
    activation: policy.activation,
    activeVersion: policy.activeVersion,
    hash: activePolicy(policy)?.hash ?? null,
    at,
  };
}

export interface InForceInput {
  /** `$policy` as folded (documents of every version; at least as far as the fence). */
  policy: PolicyState | null;
  /** The policy version the partition's fence put in force (null: none applied yet). */
  activeVersion: number | null;
  fenceStream: string;
  /** The fence stream's version. */
  activation: number;
  failClosed: boolean;
  /** Compiles a version's document (the caller caches); throws when it cannot. */
  compile: (version: number, document: PolicyDocument) => CompiledPolicy;
}

/**
 * The policy a partition decides with: the version its fence names, compiled from `$policy`'s
 * record of it. A version that cannot decide (unreadable, uncompilable, or unknown to `$policy`)
 * makes every decision a denial rather than fall back to another version.
 */
export function policyInForce(i: InForceInput): PolicyInForce {
  const base = { fenceStream: i.fenceStream, activation: i.activation, failClosed: i.failClosed };
  if (i.activeVersion === null) {
    return { ...base, version: null, hash: null, compiled: null, unusable: null };
  }
  const record = i.policy?.versions.find((v) => v.version === i.activeVersion) ?? null;
  if (!record) {
    return {
      ...base,
      version: i.activeVersion,
      hash: null,
      compiled: null,
      unusable: `policy version ${i.activeVersion} was never applied`,
    };
  }
  try {
    if (!record.document) throw new Error('its document is unreadable in the log');
    const compiled = i.compile(record.version, record.document);
    return { ...base, version: record.version, hash: record.hash, compiled, unusable: null };
  } catch (err) {
    return {
      ...base,
      version: record.version,
      hash: record.hash,
      compiled: null,
      unusable: `policy version ${record.version} cannot decide: ${(err as Error).message}`,
    };
  }
}
