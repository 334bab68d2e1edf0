import { EventTypes, type PolicyActivatedV1, type PolicyAppliedV1 } from '#contracts';
import type { PolicyDocument } from './policy-document.js';

export interface PolicyVersionRecord {
  version: number;
  hash: string;
  name: string;
  document: PolicyDocument;
  source: string;
  format: 'yaml' | 'json';
  appliedBy: string;
  reason: string;
  appliedAt: string;
  /** Global log position of the PolicyApplied event. */
  position: number;
}

/** Every version ever applied and which one is in force, folded from the `$policy` stream. */
export interface PolicyState {
  versions: PolicyVersionRecord[];
  activeVersion: number | null;
  /** Stream version of `$policy` folded so far: the activation sequence a decision is fenced on. */
  activation: number;
  history: { version: number; at: string; appliedBy: string; reason: string; kind: 'applied' | 'activated' }[];
}

export function emptyPolicyState(): PolicyState {
  return { versions: [], activeVersion: null, activation: 0, history: [] };
}

/** Folds one `$policy` event (returns a new state; the input is not modified). */
export function foldPolicyEvent(
  s: PolicyState | null,
  e: { type: string; data: unknown; streamVersion: number; position: number },
): PolicyState {
  const state = s ?? emptyPolicyState();
  if (e.type === EventTypes.PolicyApplied) {
    const d = e.data as PolicyAppliedV1;
    return {
      versions: [
        ...state.versions,
        {
          version: d.version,
          hash: d.hash,
          name: d.name,
          document: d.document as unknown as PolicyDocument,
          source: d.source,
          format: d.format,
          appliedBy: d.appliedBy,
          reason: d.reason,
          appliedAt: d.at,
          position: e.position,
        },
      ],
      activeVersion: d.version,
      activation: e.streamVersion,
      history: [
        ...state.history,
        { version: d.version, at: d.at, appliedBy: d.appliedBy, reason: d.reason, kind: 'applied' },
      ],
    };
  }
  if (e.type === EventTypes.PolicyActivated) {
    const d = e.data as PolicyActivatedV1;
    return {
      ...state,
      activeVersion: d.version,
      activation: e.streamVersion,
      history: [
        ...state.history,
        { version: d.version, at: d.at, appliedBy: d.appliedBy, reason: d.reason, kind: 'activated' },
      ],
    };
  }
  return { ...state, activation: e.streamVersion };
}

export function activePolicy(s: PolicyState): PolicyVersionRecord | null {
  return s.activeVersion === null ? null : (s.versions.find((v) => v.version === s.activeVersion) ?? null);
}
