import {
  compilePolicy,
  emptyPolicyState,
  foldPolicyEvent,
  parsePolicyDocument,
  type PolicyState,
} from '#policy-engine';
import { fenceFor, foldPolicyFence, policyInForce, type FenceState } from './policy-fence.js';

const AT = '2026-11-30T12:00:00.000Z';
const YAML = 'apiVersion: agentos/v1\nname: p\nroles:\n  worker:\n    allow: [file_read]\n';

function applied(version: number, state: PolicyState | null = null): PolicyState {
  const r = parsePolicyDocument(YAML, 'yaml');
  if (!r.ok) throw new Error('bad fixture');
  return foldPolicyEvent(state, {
    type: 'PolicyApplied',
    streamVersion: (state?.activation ?? 0) + 1,
    position: 1,
    data: {
      version,
      hash: `${version}`.repeat(16).slice(0, 16),
      name: 'p',
      document: r.document,
      source: YAML,
      format: 'yaml',
      appliedBy: 't',
      reason: 'r',
      at: AT,
    },
  });
}

const fence = (data: unknown, type = 'PolicyFence') => ({ type, schemaVersion: 1, data });

describe('policy fences', () => {
  it('folds the latest readable fence and ignores what it cannot read', () => {
    let s: FenceState | null = null;
    s = foldPolicyFence(s, fence({ activation: 1, activeVersion: 1, hash: 'aaaaaaaaaaaaaaaa', at: AT }));
    expect(s).toEqual({ activation: 1, activeVersion: 1, hash: 'aaaaaaaaaaaaaaaa' });
    expect(foldPolicyFence(s, fence(null))).toBe(s);
    expect(foldPolicyFence(s, fence({ activation: 'x' }))).toBe(s);
    expect(foldPolicyFence(s, fence({ activation: 9 }, 'SomethingElse'))).toBe(s);
    expect(foldPolicyFence(s, fence({ activation: 2, activeVersion: null, hash: null, at: AT }))).toEqual({
      activation: 2,
      activeVersion: null,
      hash: null,
    });
  });

  it('writes a fence only when the partition is behind $policy', () => {
    const policy = applied(1);
    expect(fenceFor(emptyPolicyState(), null, AT)).toBeNull();
    expect(fenceFor(policy, null, AT)).toEqual({
      activation: 1,
      activeVersion: 1,
      hash: policy.versions[0].hash,
      at: AT,
    });
    expect(fenceFor(policy, { activation: 1, activeVersion: 1, hash: null }, AT)).toBeNull();
    const two = applied(2, policy);
    expect(fenceFor(two, { activation: 1, activeVersion: 1, hash: null }, AT)).toMatchObject({
      activation: 2,
      activeVersion: 2,
    });
  });

  it('puts in force the version the fence names, even when $policy has moved on', () => {
    const two = applied(2, applied(1));
    const p = policyInForce({
      policy: two,
      activeVersion: 1,
      fenceStream: '$policy@3',
      activation: 5,
      failClosed: false,
      compile: (_v, d) => compilePolicy(d),
    });
    expect(p).toMatchObject({ fenceStream: '$policy@3', activation: 5, version: 1, unusable: null });
    expect(p.compiled).not.toBeNull();
  });

  it('denies rather than guesses when the fence names a version $policy does not have', () => {
    const p = policyInForce({
      policy: applied(1),
      activeVersion: 7,
      fenceStream: '$policy@1',
      activation: 2,
      failClosed: false,
      compile: (_v, d) => compilePolicy(d),
    });
    expect(p.compiled).toBeNull();
    expect(p.unusable).toMatch(/version 7/);
  });

  it('is permissive (or fail-closed) while no policy is in force in the partition', () => {
    const base = { policy: applied(1), activeVersion: null, fenceStream: '$policy@1', activation: 0 };
    const compile = (_v: number, d: Parameters<typeof compilePolicy>[0]) => compilePolicy(d);
    expect(policyInForce({ ...base, failClosed: false, compile })).toMatchObject({
      compiled: null,
      unusable: null,
      failClosed: false,
    });
    expect(policyInForce({ ...base, failClosed: true, compile })).toMatchObject({ failClosed: true });
  });
});
