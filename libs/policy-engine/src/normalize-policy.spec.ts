import { DEFAULT_ARGUMENT_CHECKS } from './default-argument-checks.js';
import { normalizePolicy } from './normalize-policy.js';
import { parsePolicyDocument } from './parse-policy.js';
import type { PolicyDocument } from './policy-document.js';
import { policyContentHash } from './policy-hash.js';

const doc = (text: string, format: 'yaml' | 'json' = 'yaml'): PolicyDocument => {
  const r = parsePolicyDocument(text, format);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.document;
};

describe('normalizePolicy', () => {
  it('writes out every default: deny + kill, the seed argument checks, match-any, priority 0', () => {
    const n = normalizePolicy(doc('apiVersion: agentos/v1\nname: x\nrules: [{name: r, effect: deny}]\n'));
    expect(n).toEqual({
      apiVersion: 'agentos/v1',
      name: 'x',
      description: '',
      defaults: { effect: 'deny', onViolation: 'kill' },
      roles: {},
      rules: [
        {
          name: 'r',
          description: '',
          priority: 0,
          match: { actions: ['*'], roles: ['*'], agents: ['*'] },
          effect: 'deny',
          onViolation: 'kill',
          message: '',
        },
      ],
      argumentChecks: DEFAULT_ARGUMENT_CHECKS,
      rateLimits: [],
    });
  });

  it('reads defaults.action and its older name defaults.effect alike', () => {
    const a = normalizePolicy({ apiVersion: 'agentos/v1', name: 'x', defaults: { action: 'allow' } });
    const b = normalizePolicy({ apiVersion: 'agentos/v1', name: 'x', defaults: { effect: 'allow' } });
    expect(a.defaults).toEqual({ effect: 'allow', onViolation: 'kill' });
    expect(b).toEqual(a);
  });

  it('is idempotent: a normalised policy is a document that normalises to itself', () => {
    const d = doc(`apiVersion: agentos/v1
name: x
roles:
  w: { allow: [b, a, { action: r, when: { field: args.x, operator: eq, value: 1 } }], deny: [z], context: { k: 1 } }
rules: [{ name: r, effect: deny, match: { actions: [b, a] }, when: { field: args.q, operator: eq, value: 1 } }]
rateLimits: [{ name: l, perMinute: 3 }]
argumentChecks: { custom: [{ name: c, fields: [q], patterns: [x] }], destructiveSql: { enabled: false } }
`);
    const n = normalizePolicy(d);
    expect(normalizePolicy(n)).toEqual(n);
    expect(parsePolicyDocument(JSON.stringify(n), 'json')).toMatchObject({ ok: true });
  });
});

describe('policyContentHash', () => {
  const base = 'apiVersion: agentos/v1\nname: x\nroles: {w: {allow: [file_read, file_write]}}\n';

  it('is the SHA-256 of the content: key order, JSON vs YAML, set order and spelled-out defaults do not matter', () => {
    const a = doc(base);
    const same = [
      doc(
        '{"roles": {"w": {"allow": ["file_write", "file_read", "file_read"]}}, "name": "x", "apiVersion": "agentos/v1"}',
        'json',
      ),
      doc(`${base}defaults: {onViolation: kill, action: deny}\n`),
      doc(`${base}argumentChecks: {pathTraversal: {enabled: true}}\nrules: []\n`),
    ];
    expect(policyContentHash(a)).toMatch(/^[0-9a-f]{64}$/);
    for (const d of same) expect(policyContentHash(d)).toBe(policyContentHash(a));
    expect(policyContentHash(a)).toBe(policyContentHash(normalizePolicy(a)));
  });

  it('changes with anything that changes a decision or the record', () => {
    const a = policyContentHash(doc(base));
    const different = [
      base.replace('file_write', 'file_open'),
      `${base}defaults: {action: allow}\n`,
      `${base}description: why\n`,
      `${base}rules: [{name: a, effect: deny}, {name: b, effect: deny}]\n`,
      `${base}argumentChecks: {dangerousCode: {onViolation: deny}}\n`,
    ].map((t) => policyContentHash(doc(t)));
    expect(new Set([a, ...different]).size).toBe(different.length + 1);
    // rule order breaks priority ties, so it is content
    expect(policyContentHash(doc(`${base}rules: [{name: a, effect: deny}, {name: b, effect: allow}]\n`))).not.toBe(
      policyContentHash(doc(`${base}rules: [{name: b, effect: allow}, {name: a, effect: deny}]\n`)),
    );
  });

  it('is stable across runs (a fixed document has a fixed identity)', () => {
    expect(policyContentHash({ apiVersion: 'agentos/v1', name: 'fixed' })).toBe(
      policyContentHash(JSON.parse(JSON.stringify({ name: 'fixed', apiVersion: 'agentos/v1' }))),
    );
  });
});
