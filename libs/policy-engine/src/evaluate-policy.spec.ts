import { compilePolicy } from './compile-policy.js';
import { evaluatePolicy, type PolicyRequest, type RateUsage } from './evaluate-policy.js';
import { benchmarkDecisions } from './policy-benchmark.js';
import type { PolicyDocument } from './policy-document.js';
import { diffPolicies, matchingRulesFor } from './policy-views.js';
import { normalizePolicy } from './normalize-policy.js';

const req = (action: string, args: Record<string, unknown> = {}, role = 'writer', agentId = 'a1'): PolicyRequest => ({
  agentId,
  role,
  action,
  syscall: 'SYS_X',
  args,
  ring: 3,
});
const base: PolicyDocument = {
  apiVersion: 'agentos/v1',
  name: 'test',
  roles: {
    writer: { allow: ['file_read', 'file_write', 'search'], context: { clearance: 2, team: 'blue' } },
    reader: { allow: ['file_read'] },
  },
};
const decide = (doc: Partial<PolicyDocument>, r: PolicyRequest, usage?: RateUsage) =>
  evaluatePolicy(compilePolicy({ ...base, ...doc }), r, usage);

describe('policy decisions', () => {
  it('allows what a role lists and denies everything else by default, killing (the seed)', () => {
    expect(decide({}, req('file_write'))).toEqual({
      allowed: true,
      rule: 'role:writer',
      reason: null,
      shadow: false,
      onViolation: null,
    });
    expect(decide({}, req('file_write', {}, 'reader'))).toEqual({
      allowed: false,
      rule: 'role:reader',
      reason: 'Role reader cannot use action file_write',
      shadow: false,
      onViolation: 'kill',
    });
    expect(decide({}, req('x', {}, 'stranger'))).toMatchObject({ allowed: false, rule: 'defaults' });
    expect(decide({ defaults: { effect: 'allow' } }, req('x', {}, 'stranger'))).toMatchObject({
      allowed: true,
      rule: 'defaults',
    });
  });

  it.each([
    ['eq', 'blue', true],
    ['ne', 'blue', false],
    ['in', ['red', 'blue'], true],
    ['not_in', ['red', 'blue'], false],
    ['contains', 'lu', true],
    ['matches', '^b.u', true],
  ] as const)('evaluates %s on context attributes', (operator, value, expected) => {
    const d = decide(
      { rules: [{ name: 'r', when: { field: 'context.team', operator, value }, effect: 'deny' }] },
      req('file_read'),
    );
    expect(d.allowed).toBe(!expected);
  });

  it.each([
    ['gt', 1, true],
    ['gt', 2, false],
    ['gte', 2, true],
    ['lt', 3, true],
    ['lte', 1, false],
  ] as const)('compares numbers with %s %s', (operator, value, expected) => {
    const d = decide(
      { rules: [{ name: 'r', when: { field: 'clearance', operator, value }, effect: 'deny' }] },
      req('file_read'),
    );
    expect(d.allowed).toBe(!expected);
  });

  it('treats a missing attribute as false for every operator, and combines with all/any/not', () => {
    for (const operator of ['eq', 'ne', 'gt', 'lt', 'gte', 'lte', 'in', 'not_in', 'contains', 'matches'] as const) {
      const value = operator === 'in' || operator === 'not_in' ? [1] : operator === 'matches' ? 'x' : 1;
      expect(
        decide(
          { rules: [{ name: 'r', when: { field: 'args.missing', operator, value }, effect: 'deny' }] },
          req('file_read'),
        ).allowed,
      ).toBe(true);
    }
    const when = {
      all: [
        { field: 'args.amount', operator: 'gt' as const, value: 100 },
        {
          any: [
            { field: 'args.currency', operator: 'eq' as const, value: 'EUR' },
            { not: { field: 'args.approved', operator: 'eq' as const, value: true } },
          ],
        },
      ],
    };
    const rules = [{ name: 'big', when, effect: 'deny' as const }];
    expect(decide({ rules }, req('file_read', { amount: 500, currency: 'USD', approved: true })).allowed).toBe(true);
    expect(decide({ rules }, req('file_read', { amount: 500, currency: 'EUR', approved: true })).allowed).toBe(false);
    expect(decide({ rules }, req('file_read', { amount: 500, currency: 'USD' })).allowed).toBe(false);
    expect(decide({ rules }, req('file_read', { amount: 50, currency: 'EUR' })).allowed).toBe(true);
  });

  it('supports conditional allow entries; several for one action must all hold (the seed)', () => {
    const doc: Partial<PolicyDocument> = {
      roles: {
        support: {
          allow: [
            { action: 'refund', when: { field: 'args.amount', operator: 'lt', value: 1000 } },
            { action: 'refund', when: { field: 'context.verified', operator: 'eq', value: true } },
          ],
          context: { verified: true },
        },
      },
    };
    expect(decide(doc, req('refund', { amount: 10 }, 'support')).allowed).toBe(true);
    expect(decide(doc, req('refund', { amount: 5000 }, 'support'))).toMatchObject({
      allowed: false,
      reason: 'Conditional permission denied for refund: Conditions not met',
    });
  });

  it('decides by priority, deny before allow at equal priority, then document order', () => {
    const rules = [
      { name: 'allow-low', priority: 1, effect: 'allow' as const },
      {
        name: 'deny-high',
        priority: 5,
        effect: 'deny' as const,
        onViolation: 'deny' as const,
        message: 'high says no',
      },
      { name: 'allow-high', priority: 5, effect: 'allow' as const },
    ];
    expect(decide({ rules }, req('anything', {}, 'stranger'))).toMatchObject({
      allowed: false,
      rule: 'deny-high',
      reason: 'high says no',
      onViolation: 'deny',
    });
    expect(decide({ rules: [rules[0], rules[2]] }, req('anything', {}, 'stranger'))).toMatchObject({
      allowed: true,
      rule: 'allow-high',
    });
  });

  it('matches rules by action, role and agent', () => {
    const rules = [
      { name: 'r', match: { actions: ['file_write'], roles: ['writer'], agents: ['a2'] }, effect: 'deny' as const },
    ];
    expect(decide({ rules }, req('file_write', {}, 'writer', 'a2')).allowed).toBe(false);
    expect(decide({ rules }, req('file_write', {}, 'writer', 'a1')).allowed).toBe(true);
    expect(decide({ rules }, req('file_read', {}, 'writer', 'a2')).allowed).toBe(true);
  });

  it('applies the seed argument checks to our action names, each with its onViolation', () => {
    const p = (action: string, args: Record<string, unknown>) =>
      decide({ roles: { w: { allow: ['*'] } } }, req(action, args, 'w'));
    expect(p('file_read', { path: '/etc/passwd' })).toMatchObject({
      allowed: false,
      rule: 'check:protectedPaths',
      onViolation: 'kill',
    });
    expect(p('file_write', { path: '/mem/working/a\nb' })).toMatchObject({
      reason: 'Path Validation Error: Control characters in path',
    });
    expect(p('file_open', { path: '/mem/working/../../policy/x' })).toMatchObject({ rule: 'check:pathTraversal' });
    expect(p('run_command', { command: 'rm -rf /' })).toMatchObject({
      rule: 'check:dangerousCode',
      reason: 'Dangerous pattern detected: \\brm\\s+-rf\\b',
    });
    expect(p('database_query', { query: 'drop table users' })).toMatchObject({ rule: 'check:destructiveSql' });
    expect(p('database_query', { query: 'UPDATE t SET a=1 WHERE 1 = 1' })).toMatchObject({
      rule: 'check:destructiveSql',
    });
    expect(p('api_call', { endpoint: 'internal://admin' })).toMatchObject({ rule: 'check:internalEndpoints' });
    expect(p('file_read', { path: '/mem/working/ok' }).allowed).toBe(true);
    expect(p('database_query', { query: 'select 1' }).allowed).toBe(true);
    const relaxed = decide(
      {
        roles: { w: { allow: ['*'] } },
        argumentChecks: { protectedPaths: { onViolation: 'deny' }, dangerousCode: { enabled: false } },
      },
      req('file_read', { path: '/proc/self' }, 'w'),
    );
    expect(relaxed).toMatchObject({ allowed: false, onViolation: 'deny' });
    expect(
      decide(
        { roles: { w: { allow: ['*'] } }, argumentChecks: { dangerousCode: { enabled: false } } },
        req('run_command', { command: 'rm -rf /' }, 'w'),
      ).allowed,
    ).toBe(true);
  });

  it('audits instead of enforcing (shadow mode), without masking an enforcing rule', () => {
    const rules = [
      {
        name: 'watch-big',
        priority: 9,
        when: { field: 'args.amount', operator: 'gt' as const, value: 100 },
        effect: 'deny' as const,
        onViolation: 'audit' as const,
        message: 'big amount',
      },
      {
        name: 'stop-huge',
        priority: 1,
        when: { field: 'args.amount', operator: 'gt' as const, value: 10_000 },
        effect: 'deny' as const,
        onViolation: 'deny' as const,
      },
    ];
    expect(decide({ rules }, req('file_read', { amount: 500 }))).toEqual({
      allowed: true,
      rule: 'watch-big',
      reason: 'big amount',
      shadow: true,
      onViolation: 'audit',
    });
    expect(decide({ rules }, req('file_read', { amount: 50_000 }))).toMatchObject({
      allowed: false,
      rule: 'stop-huge',
      shadow: false,
    });
    expect(decide({ defaults: { onViolation: 'audit' } }, req('file_write', {}, 'reader'))).toMatchObject({
      allowed: true,
      shadow: true,
      rule: 'role:reader',
    });
  });

  it('enforces rate limits per minute and per hour from the usage the caller derived from the log', () => {
    const rateLimits = [{ name: 'writes', match: { actions: ['file_write'] }, perMinute: 3, perHour: 10 }];
    const usage = (minute: number, hour: number): RateUsage => ({
      count: (counts, w) => (counts('file_write') ? (w === 1 ? minute : hour) : 0),
    });
    expect(decide({ rateLimits }, req('file_write'), usage(2, 2)).allowed).toBe(true);
    expect(decide({ rateLimits }, req('file_write'), usage(3, 3))).toMatchObject({
      allowed: false,
      rule: 'rate:writes',
      onViolation: 'deny',
      reason: 'Rate limit writes exceeded: 3 per minute',
    });
    expect(decide({ rateLimits }, req('file_write'), usage(0, 10))).toMatchObject({
      allowed: false,
      reason: 'Rate limit writes exceeded: 10 per hour',
    });
    expect(decide({ rateLimits }, req('file_read'), usage(99, 99)).allowed).toBe(true);
  });

  it('shows an agent the rules that apply to it, and diffs versions', () => {
    const doc = {
      ...base,
      rules: [
        { name: 'r1', match: { actions: ['file_write'], roles: ['writer'] }, effect: 'deny' as const },
        { name: 'r2', match: { roles: ['reader'] }, effect: 'deny' as const },
      ],
    };
    const view = matchingRulesFor(compilePolicy(doc), 'writer', 'file_write');
    expect(view.map((v) => v.kind)).toEqual(['allow', 'rule', 'defaults']);
    const changed = { ...doc, rules: [{ ...doc.rules[0], priority: 3 }], rateLimits: [{ name: 'w', perMinute: 5 }] };
    const d = diffPolicies(normalizePolicy(doc), normalizePolicy(changed));
    expect(d.rules.removed).toEqual(['r2']);
    expect(d.rules.changed.map((c) => c.name)).toEqual(['r1']);
    expect(d.rateLimits.added.map((a) => a.name)).toEqual(['w']);
    expect(d.identical).toBe(false);
    expect(diffPolicies(normalizePolicy(doc), normalizePolicy(doc)).identical).toBe(true);
  });

  it('decides a 100-rule policy in microseconds', () => {
    const b = benchmarkDecisions(20_000);
    expect(b.decisions).toBe(20_000);
    expect(b.p50Us).toBeGreaterThan(0);
  });
});
