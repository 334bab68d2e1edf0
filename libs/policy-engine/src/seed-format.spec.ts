import { compilePolicy } from './compile-policy.js';
import { evaluatePolicy } from './evaluate-policy.js';
import { parsePolicyDocument } from './parse-policy.js';
import type { PolicyRequest } from './policy-decision.js';

const SEED = `
version: "1.0"
name: seed-policy
description: from agent_os/policies
rules:
  - name: block drop
    condition: { field: query, operator: contains, value: DROP }
    action: block
    priority: 100
    message: no drops
  - name: audit-big
    condition: { field: amount, operator: gt, value: 1000 }
    action: audit
    priority: 50
  - name: allow-search
    condition: { field: tool_name, operator: in, value: [search, read] }
    action: allow
  - name: no-bob
    condition: { field: agent_id, operator: eq, value: bob }
    action: deny
    priority: 200
defaults:
  action: deny
  max_tokens: 4096
`;

const req = (action: string, args: Record<string, unknown> = {}, agentId = 'a1'): PolicyRequest => ({
  agentId,
  role: 'any',
  action,
  syscall: 'SYS_EXEC',
  args,
  ring: 3,
});

describe("importing the seed's declarative format", () => {
  it('converts it to ours: actions to effects, flat fields to our roots, defaults.action', () => {
    const r = parsePolicyDocument(SEED);
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    expect(r.importedFrom).toBe('seed');
    expect(r.document).toEqual({
      apiVersion: 'agentos/v1',
      name: 'seed-policy',
      description: 'from agent_os/policies',
      defaults: { action: 'deny', onViolation: 'deny' },
      rules: [
        {
          name: 'block_drop',
          priority: 100,
          when: { field: 'args.query', operator: 'contains', value: 'DROP' },
          effect: 'deny',
          onViolation: 'deny',
          message: 'no drops',
        },
        {
          name: 'audit-big',
          description: 'seed action audit: allowed, recorded under this rule',
          priority: 50,
          when: { field: 'args.amount', operator: 'gt', value: 1000 },
          effect: 'allow',
        },
        {
          name: 'allow-search',
          priority: 0,
          when: { field: 'action', operator: 'in', value: ['search', 'read'] },
          effect: 'allow',
        },
        {
          name: 'no-bob',
          priority: 200,
          when: { field: 'agent.id', operator: 'eq', value: 'bob' },
          effect: 'deny',
          onViolation: 'deny',
        },
      ],
    });
  });

  it('decides as the seed evaluator does: first match by priority, audit allows, no match gets the default', () => {
    const r = parsePolicyDocument(SEED);
    if (!r.ok) throw new Error('invalid');
    const p = compilePolicy(r.document);
    expect(evaluatePolicy(p, req('sql', { query: 'DROP TABLE x', amount: 5000 }))).toMatchObject({
      allowed: false,
      rule: 'block_drop',
      reason: 'no drops',
      onViolation: 'deny',
    });
    expect(evaluatePolicy(p, req('refund', { amount: 5000 }))).toMatchObject({ allowed: true, rule: 'audit-big' });
    expect(evaluatePolicy(p, req('search'))).toMatchObject({ allowed: true, rule: 'allow-search' });
    expect(evaluatePolicy(p, req('search', {}, 'bob'))).toMatchObject({ allowed: false, rule: 'no-bob' });
    expect(evaluatePolicy(p, req('refund', { amount: 5 }))).toMatchObject({
      allowed: false,
      rule: 'defaults',
      onViolation: 'deny',
    });
  });

  it('fails closed without defaults.action, as the seed schema does', () => {
    const r = parsePolicyDocument(
      'rules:\n  - { name: r, condition: { field: x, operator: eq, value: 1 }, action: allow }\n',
    );
    expect(r).toMatchObject({
      ok: true,
      importedFrom: 'seed',
      document: { name: 'imported', defaults: { action: 'deny' } },
    });
  });

  it('reports problems where the seed document has them', () => {
    const e = parsePolicyDocument(`version: "1.0"
rules:
  - name: a
    condition: { field: q, operator: matches, value: '(a+)+$' }
    action: deny
  - name: b
    condition: { field: q, operator: eq }
    action: maybe
`);
    expect(e).toEqual({
      ok: false,
      errors: [
        { field: 'rules[1].condition.value', line: 7, column: 16, message: 'is required' },
        { field: 'rules[1].action', line: 8, column: 13, message: 'must be one of "allow", "deny", "audit", "block"' },
      ],
    });
    const unsafe = parsePolicyDocument(
      `version: "1.0"\nrules:\n  - name: a\n    condition: { field: q, operator: matches, value: '(a+)+$' }\n    action: deny\n`,
    );
    expect(unsafe).toMatchObject({
      ok: false,
      errors: [{ field: 'rules[0].condition.value', line: 4, message: expect.stringMatching(/catastrophically/) }],
    });
  });

  it('refuses what it cannot honour rather than dropping it', () => {
    const e = parsePolicyDocument(
      'version: "1.0"\nscope: "src/**"\ntool_allowlist: [search]\nrules:\n  - { name: r, condition: { field: x, operator: eq, value: 1 }, action: allow }\n',
    );
    expect(e).toEqual({
      ok: false,
      errors: [
        { field: 'scope', line: 2, column: 8, message: 'folder-scoped seed policies cannot be imported' },
        {
          field: 'tool_allowlist',
          line: 3,
          column: 17,
          message: 'cannot be imported: list the tools in a role allow-list',
        },
      ],
    });
  });
});
