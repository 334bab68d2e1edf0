import { EventTypes } from '#contracts';
import type { PolicyDocument } from './policy-document.js';

export interface PolicyVersionRecord {
  version: number;
  hash: string;
  name: string;
  /** null when the recorded event could not be read (then no kernel decides with it: fail closed). */
  document: PolicyDocument | null;
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
  /** Events the fold could not read, with the last reason (tampered or pre-schema logs). */
  faults: number;
  lastFault: string | null;
}

export function emptyPolicyState(): PolicyState {
  return { versions: [], activeVersion: null, activation: 0, history: [], faults: 0, lastFault: null };
}

type Data = Record<string, unknown>;

/**
 * Folds one `$policy` event (returns a new state; the input is not modified). Total: what it
 * cannot read still counts. A PolicyApplied it cannot read becomes the active version with no
 * document, so kernels refuse to decide with it (fail closed) rather than keep deciding with the
 * version the log says was replaced.
 */
export function foldPolicyEvent(
  s: PolicyState | null,
  e: { type: string; data: unknown; streamVersion: number; position: number },
): PolicyState {
  const state = s ?? emptyPolicyState();
  const d: Data = e.data !== null && typeof e.data === 'object' && !Array.isArray(e.data) ? (e.data as Data) : {};
  const str = (k: string) => (typeof d[k] === 'string' ? (d[k] as string) : '');
  const at = str('at');
  const appliedBy = str('appliedBy');
  const reason = str('reason');
  if (e.type === EventTypes.PolicyApplied) {
    const nextNumber = (state.versions.at(-1)?.version ?? 0) + 1;
    const version = Number.isSafeInteger(d.version) ? (d.version as number) : nextNumber;
    const document = isDocument(d.document) ? (d.document as unknown as PolicyDocument) : null;
    const readable = document !== null && Number.isSafeInteger(d.version) && typeof d.hash === 'string';
    return {
      ...state,
      versions: [
        ...state.versions,
        {
          version,
          hash: str('hash'),
          name: str('name'),
          document: readable ? document : null,
          source: str('source'),
          format: d.format === 'json' ? 'json' : 'yaml',
          appliedBy,
          reason,
          appliedAt: at,
          position: e.position,
        },
      ],
      activeVersion: version,
      activation: e.streamVersion,
      history: [...state.history, { version, at, appliedBy, reason, kind: 'applied' }],
      ...(readable ? {} : fault(state, `PolicyApplied at position ${e.position} is unreadable`)),
    };
  }
  if (e.type === EventTypes.PolicyActivated) {
    const known = Number.isSafeInteger(d.version) && state.versions.some((v) => v.version === d.version);
    if (!known) {
      // activating a version that was never applied: nothing can decide with it
      return {
        ...state,
        activeVersion: null,
        activation: e.streamVersion,
        ...fault(state, `PolicyActivated at position ${e.position} names no applied version`),
      };
    }
    const version = d.version as number;
    return {
      ...state,
      activeVersion: version,
      activation: e.streamVersion,
      history: [...state.history, { version, at, appliedBy, reason, kind: 'activated' }],
    };
  }
  return { ...state, activation: e.streamVersion };
}

function fault(s: PolicyState, reason: string): Pick<PolicyState, 'faults' | 'lastFault'> {
  return { faults: s.faults + 1, lastFault: reason };
}

function isDocument(x: unknown): boolean {
  return x !== null && typeof x === 'object' && !Array.isArray(x);
}

export function activePolicy(s: PolicyState): PolicyVersionRecord | null {
  return s.activeVersion === null ? null : (s.versions.find((v) => v.version === s.activeVersion) ?? null);
}
