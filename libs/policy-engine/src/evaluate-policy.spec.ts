import { compilePolicy } from './compile-policy.js';
import { evaluatePolicy } from './evaluate-policy.js';
import { matchingRulesFor } from './matching-rules.js';
import { normalizePolicy } from './normalize-policy.js';
import { parsePolicyDocument } from './parse-policy.js';
import { benchmarkDecisions, hundredRulePolicy } from './policy-benchmark.js';
import type { PolicyRequest, RateCounter, RateUsage } from './policy-decision.js';
import { diffPolicies } from './policy-diff.js';
import type { PolicyDocument, PolicyRule } from './policy-document.js';

// The rework moved PolicyRequest/RateUsage/PolicyDecision to policy-decision.ts and the views
// (matchingRulesFor, diffPolicies) from policy-views.ts to matching-rules.ts and policy-diff.ts.

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
const parsed = (text: string, format: 'yaml' | 'json' = 'yaml'): PolicyDocument => {
  const r = parsePolicyDocument(text, format);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.document;
};

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
    expect(decide({}, req('x', {}, 'stranger'))).toEqual({
      allowed: false,
      rule: 'defaults',
      reason: 'Role stranger cannot use action x',
      shadow: false,
      onViolation: 'kill',
    });
    expect(decide({ defaults: { effect: 'allow' } }, req('x', {}, 'stranger'))).toMatchObject({
      allowed: true,
      rule: 'defaults',
    });
    // `defaults.action` is the new name of `defaults.effect`; both still work.
    expect(decide({ defaults: { action: 'allow' } }, req('x', {}, 'stranger'))).toMatchObject({
      allowed: true,
      rule: 'defaults',
    });
    // New in the rework: a role's deny list refuses whatever its allow-list (`*` included) says.
    const denying = { roles: { w: { allow: ['*'], deny: ['file_write'] } } };
    expect(decide(denying, req('file_read', {}, 'w'))).toMatchObject({ allowed: true, rule: 'role:w' });
    expect(decide(denying, req('file_write', {}, 'w'))).toEqual({
      allowed: false,
      rule: 'role:w',
      reason: 'Role w cannot use action file_write',
      shadow: false,
      onViolation: 'kill',
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

  it("takes the request's own context before the role's (new in the rework)", () => {
    const rules: PolicyRule[] = [
      { name: 'r', when: { field: 'context.team', operator: 'eq', value: 'red' }, effect: 'deny' },
    ];
    expect(decide({ rules }, req('file_read')).allowed).toBe(true);
    expect(decide({ rules }, { ...req('file_read'), context: { team: 'red' } }).allowed).toBe(false);
  });

  it('treats a missing attribute as false for every operator, and combines with all/any/not', () => {
    for (const operator of ['eq', 'ne', 'gt', 'lt', 'gte', 'lte', 'in', 'not_in', 'contains', 'matches'] as const) {
      const value = operator === 'in' || operator === 'not_in' ? [1] : operator === 'matches' ? 'x' : 1;
      for (const field of ['args.missing', 'context.missing', 'missing', 'args.nothing']) {
        const d = decide(
          { rules: [{ name: 'r', when: { field, operator, value }, effect: 'deny' }] },
          req('file_read', { nothing: null }),
        );
        expect(d.allowed).toBe(true);
        // so `not` of a comparison on a missing attribute is true
        const negated = decide(
          { rules: [{ name: 'r', when: { not: { field, operator, value } }, effect: 'deny' }] },
          req('file_read', { nothing: null }),
        );
        expect(negated.allowed).toBe(false);
      }
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
    // The new engine's default reason for a rule without a message (was `rule big denies file_read`).
    expect(decide({ rules }, req('file_read', { amount: 500, currency: 'EUR' }))).toEqual({
      allowed: false,
      rule: 'big',
      reason: 'Rule big denies action file_read',
      shadow: false,
      onViolation: 'kill',
    });
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
    expect(decide(doc, req('refund', { amount: 10 }, 'support'))).toMatchObject({
      allowed: true,
      rule: 'role:support',
    });
    expect(decide(doc, req('refund', { amount: 5000 }, 'support'))).toEqual({
      allowed: false,
      rule: 'role:support',
      reason: 'Conditional permission denied for refund: Conditions not met',
      shadow: false,
      onViolation: 'kill',
    });
    // the request's context overrides the role's, so the second entry can fail too
    expect(decide(doc, { ...req('refund', { amount: 10 }, 'support'), context: { verified: false } }).allowed).toBe(
      false,
    );
    // a missing argument fails the condition
    expect(decide(doc, req('refund', {}, 'support')).allowed).toBe(false);
    // conditional entries restrict an action even when `*` lists it plainly
    const starDoc: Partial<PolicyDocument> = {
      roles: {
        s: { allow: ['*', { action: 'refund', when: { field: 'args.amount', operator: 'lt', value: 1000 } }] },
      },
    };
    expect(decide(starDoc, req('refund', { amount: 10 }, 's')).allowed).toBe(true);
    expect(decide(starDoc, req('refund', { amount: 5000 }, 's')).allowed).toBe(false);
    expect(decide(starDoc, req('anything', {}, 's')).allowed).toBe(true);
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
    expect(decide({ rules }, req('anything', {}, 'stranger'))).toEqual({
      allowed: false,
      rule: 'deny-high',
      reason: 'high says no',
      shadow: false,
      onViolation: 'deny',
    });
    // the deny comes first at equal priority whatever the document order
    expect(decide({ rules: [rules[2], rules[1], rules[0]] }, req('anything', {}, 'stranger'))).toMatchObject({
      rule: 'deny-high',
    });
    expect(decide({ rules: [rules[0], rules[2]] }, req('anything', {}, 'stranger'))).toEqual({
      allowed: true,
      rule: 'allow-high',
      reason: null,
      shadow: false,
      onViolation: null,
    });
    // then document order
    const twins = [
      { name: 'first', effect: 'deny' as const, message: 'first' },
      { name: 'second', effect: 'deny' as const, message: 'second' },
    ];
    expect(decide({ rules: twins }, req('file_read')).rule).toBe('first');
    expect(decide({ rules: [twins[1], twins[0]] }, req('file_read')).rule).toBe('second');
    // a rule decides before the role (an allow rule opens what the role does not list)
    expect(
      decide(
        { rules: [{ name: 'open', match: { actions: ['file_write'] }, effect: 'allow' }] },
        req('file_write', {}, 'reader'),
      ),
    ).toMatchObject({ allowed: true, rule: 'open' });
    // rules naming an action and rules for any action are ordered together
    const mixed = [
      { name: 'any-low', priority: 1, effect: 'deny' as const },
      { name: 'named-high', priority: 2, match: { actions: ['file_read'] }, effect: 'deny' as const },
    ];
    expect(decide({ rules: mixed }, req('file_read')).rule).toBe('named-high');
    expect(decide({ rules: mixed }, req('file_write')).rule).toBe('any-low');
  });

  it('matches rules by action, role and agent', () => {
    const rules = [
      { name: 'r', match: { actions: ['file_write'], roles: ['writer'], agents: ['a2'] }, effect: 'deny' as const },
    ];
    expect(decide({ rules }, req('file_write', {}, 'writer', 'a2')).allowed).toBe(false);
    expect(decide({ rules }, req('file_write', {}, 'writer', 'a1')).allowed).toBe(true);
    expect(decide({ rules }, req('file_read', {}, 'writer', 'a2')).allowed).toBe(true);
    expect(decide({ rules }, req('file_write', {}, 'reader', 'a2'))).toMatchObject({
      allowed: false,
      rule: 'role:reader', // not the rule: the role does not match it
    });
    // `*` in a list means any
    const star = [{ name: 's', match: { actions: ['*', 'x'], roles: ['*'], agents: ['*'] }, effect: 'deny' as const }];
    expect(decide({ rules: star }, req('file_read', {}, 'reader', 'zz')).rule).toBe('s');
  });

  it('applies the seed argument checks to our action names, each with its onViolation', () => {
    const p = (action: string, args: Record<string, unknown>) =>
      decide({ roles: { w: { allow: ['*'] } } }, req(action, args, 'w'));
    expect(p('file_read', { path: '/etc/passwd' })).toEqual({
      allowed: false,
      rule: 'check:protectedPaths',
      reason: 'Path Violation: Cannot access protected directory /etc/',
      shadow: false,
      onViolation: 'kill',
    });
    expect(p('file_write', { path: '/mem/working/a\nb' })).toMatchObject({
      rule: 'check:protectedPaths',
      reason: 'Path Validation Error: Control characters in path',
    });
    expect(p('file_open', { path: '/mem/working/../../policy/x' })).toMatchObject({ rule: 'check:pathTraversal' });
    // a path that climbs into a protected directory is seen where it lands (as the seed's normpath)
    expect(p('file_read', { path: '/mem/../etc/passwd' })).toMatchObject({ rule: 'check:protectedPaths' });
    expect(p('run_command', { command: 'rm -rf /' })).toMatchObject({
      rule: 'check:dangerousCode',
      reason: 'Dangerous pattern detected: \\brm\\s+-rf\\b',
      onViolation: 'kill',
    });
    expect(p('database_query', { query: 'drop table users' })).toMatchObject({ rule: 'check:destructiveSql' });
    expect(p('database_query', { query: 'UPDATE t SET a=1 WHERE 1 = 1' })).toMatchObject({
      rule: 'check:destructiveSql',
    });
    expect(p('api_call', { endpoint: 'internal://admin' })).toMatchObject({ rule: 'check:internalEndpoints' });
    // New in the rework: each string of a list argument is checked too.
    expect(p('file_read', { path: ['/mem/working/ok', '/proc/self'] })).toMatchObject({
      rule: 'check:protectedPaths',
    });
    expect(p('file_read', { path: '/mem/working/ok' }).allowed).toBe(true);
    expect(p('file_read', { path: 42 }).allowed).toBe(true);
    expect(p('database_query', { query: 'select 1' }).allowed).toBe(true);
    // the code and SQL checks only look at the actions that run code or queries
    expect(p('file_write', { command: 'rm -rf /' }).allowed).toBe(true);
    expect(p('search', { query: 'drop table users' }).allowed).toBe(true);
    const relaxed = decide(
      {
        roles: { w: { allow: ['*'] } },
        argumentChecks: { protectedPaths: { onViolation: 'deny' }, dangerousCode: { enabled: false } },
      },
      req('file_read', { path: '/proc/self' }, 'w'),
    );
    expect(relaxed).toMatchObject({ allowed: false, rule: 'check:protectedPaths', onViolation: 'deny' });
    expect(
      decide(
        { roles: { w: { allow: ['*'] } }, argumentChecks: { dangerousCode: { enabled: false } } },
        req('run_command', { command: 'rm -rf /' }, 'w'),
      ).allowed,
    ).toBe(true);
    // checks come before everything else: even an allow rule does not open a protected path
    expect(
      decide({ rules: [{ name: 'open', priority: 100, effect: 'allow' }] }, req('file_read', { path: '/etc/x' })),
    ).toMatchObject({ allowed: false, rule: 'check:protectedPaths' });
    // a custom check, with its own message and onViolation
    const custom = decide(
      {
        roles: { w: { allow: ['*'] } },
        argumentChecks: {
          custom: [
            {
              name: 'no-keys',
              actions: ['file_write'],
              fields: ['data'],
              patterns: ['BEGIN PRIVATE KEY'],
              onViolation: 'deny',
            },
          ],
        },
      },
      req('file_write', { data: '-----begin private key-----' }, 'w'),
    );
    expect(custom).toEqual({
      allowed: false,
      rule: 'check:no-keys',
      reason: 'Argument matches blocked pattern BEGIN PRIVATE KEY (no-keys)',
      shadow: false,
      onViolation: 'deny',
    });
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
    // an audited rule never opens what the role refuses
    expect(decide({ rules }, req('file_write', { amount: 500 }, 'reader'))).toMatchObject({
      allowed: false,
      rule: 'role:reader',
      shadow: false,
      onViolation: 'kill',
    });
    expect(decide({ rules }, req('file_read', { amount: 5 }))).toMatchObject({ allowed: true, shadow: false });
    expect(decide({ defaults: { onViolation: 'audit' } }, req('file_write', {}, 'reader'))).toEqual({
      allowed: true,
      rule: 'role:reader',
      reason: 'Role reader cannot use action file_write',
      shadow: true,
      onViolation: 'audit',
    });
    expect(decide({ defaults: { onViolation: 'audit' } }, req('x', {}, 'stranger'))).toMatchObject({
      allowed: true,
      shadow: true,
      rule: 'defaults',
    });
    // an audited argument check, shown when nothing later refuses
    expect(
      decide({ argumentChecks: { protectedPaths: { onViolation: 'audit' } } }, req('file_read', { path: '/etc/x' })),
    ).toMatchObject({ allowed: true, shadow: true, rule: 'check:protectedPaths', onViolation: 'audit' });
    // the first audited violation is the one named
    expect(
      decide(
        { rules, argumentChecks: { protectedPaths: { onViolation: 'audit' } } },
        req('file_read', { path: '/etc/x', amount: 500 }),
      ),
    ).toMatchObject({ allowed: true, shadow: true, rule: 'check:protectedPaths' });
  });

  it('enforces rate limits per minute and per hour from the usage the caller derived from the log', () => {
    const rateLimits = [{ name: 'writes', match: { actions: ['file_write'] }, perMinute: 3, perHour: 10 }];
    // RateUsage.count now receives a RateCounter: still a predicate over action names, which also
    // names its limit and window.
    const asked: [string, number, number][] = [];
    const usage = (minute: number, hour: number): RateUsage => ({
      count: (counter: RateCounter, w) => {
        asked.push([counter.limit, counter.windowMs, w]);
        return counter('file_write') && !counter('file_read') ? (w === 1 ? minute : hour) : 0;
      },
    });
    expect(decide({ rateLimits }, req('file_write'), usage(2, 2)).allowed).toBe(true);
    expect(asked).toEqual([
      ['writes', 60_000, 1],
      ['writes', 3_600_000, 60],
    ]);
    // New: a decision a rate limit made says which limit and which window.
    expect(decide({ rateLimits }, req('file_write'), usage(3, 3))).toEqual({
      allowed: false,
      rule: 'rate:writes',
      onViolation: 'deny',
      reason: 'Rate limit writes exceeded: 3 per minute',
      shadow: false,
      rateLimit: { name: 'writes', windowMs: 60_000 },
    });
    expect(decide({ rateLimits }, req('file_write'), usage(0, 10))).toMatchObject({
      allowed: false,
      reason: 'Rate limit writes exceeded: 10 per hour',
      rateLimit: { name: 'writes', windowMs: 3_600_000 },
    });
    expect(decide({ rateLimits }, req('file_read'), usage(99, 99)).allowed).toBe(true);
    // without usage nothing has been used yet
    expect(decide({ rateLimits }, req('file_write')).allowed).toBe(true);
    // limited to roles; audited limits shadow instead of refusing
    const scoped = [{ ...rateLimits[0], match: { actions: ['file_write'], roles: ['reader'] } }];
    expect(decide({ rateLimits: scoped }, req('file_write'), usage(99, 99)).allowed).toBe(true);
    expect(
      decide({ rateLimits: [{ ...rateLimits[0], onViolation: 'audit' as const }] }, req('file_write'), usage(3, 3)),
    ).toMatchObject({
      allowed: true,
      shadow: true,
      rule: 'rate:writes',
      rateLimit: { name: 'writes', windowMs: 60_000 },
    });
    // a limit does not open what the role refuses
    expect(decide({ rateLimits }, req('file_write', {}, 'reader'), usage(0, 0))).toMatchObject({
      allowed: false,
      rule: 'role:reader',
    });
  });

  it('shows an agent the rules that apply to it, and diffs versions', () => {
    const doc = {
      ...base,
      rules: [
        { name: 'r1', match: { actions: ['file_write'], roles: ['writer'] }, effect: 'deny' as const },
        { name: 'r2', match: { roles: ['reader'] }, effect: 'deny' as const },
        { name: 'r3', priority: 2, match: { agents: ['a9'] }, effect: 'deny' as const },
      ],
      rateLimits: [{ name: 'writes', match: { actions: ['file_write'] }, perMinute: 5 }],
    };
    const compiled = compilePolicy(doc);
    const view = matchingRulesFor(compiled, 'writer', 'file_write');
    expect(view.map((v) => v.kind)).toEqual(['allow', 'rule', 'rule', 'rateLimit', 'defaults']);
    expect(view[0]).toEqual({ kind: 'allow', role: 'writer', allow: ['file_write'] });
    expect(view.filter((v) => v.kind === 'rule').map((v) => v.name)).toEqual(['r3', 'r1']); // decision order
    // with the agent, rules written for other agents are left out
    expect(matchingRulesFor(compiled, 'writer', 'file_write', 'a1').map((v) => v.name ?? v.kind)).toEqual([
      'allow',
      'r1',
      'writes',
      'defaults',
    ]);
    expect(matchingRulesFor(compiled, 'stranger', 'file_read', 'a1').map((v) => v.kind)).toEqual(['defaults']);

    const changed = { ...doc, rules: [{ ...doc.rules[0], priority: 3 }], rateLimits: [{ name: 'w', perMinute: 5 }] };
    const d = diffPolicies(normalizePolicy(doc), normalizePolicy(changed));
    expect(d.rules.removed).toEqual(['r2', 'r3']);
    expect(d.rules.changed.map((c) => [c.name, c.fields])).toEqual([['r1', ['priority']]]);
    expect(d.rateLimits.added.map((a) => a.name)).toEqual(['w']);
    expect(d.rateLimits.removed).toEqual(['writes']);
    expect(d.identical).toBe(false);
    expect(diffPolicies(normalizePolicy(doc), normalizePolicy(doc)).identical).toBe(true);
    // documents are accepted too, and spelled-out defaults are no change
    expect(diffPolicies(doc, { ...doc, defaults: { effect: 'deny', onViolation: 'kill' } }).identical).toBe(true);
    const reordered = diffPolicies(doc, { ...doc, rules: [doc.rules[1], doc.rules[0], doc.rules[2]] });
    expect(reordered.ruleOrder).toEqual({ from: ['r1', 'r2', 'r3'], to: ['r2', 'r1', 'r3'] });
    expect(reordered.identical).toBe(false);
  });

  it('decides a 100-rule policy in microseconds', () => {
    // Only sane numbers are asserted, never a speed (CI machines vary).
    const b = benchmarkDecisions(2_000);
    expect(b.decisions).toBe(2_000);
    expect(b.rules).toBe(100);
    for (const us of [b.p50Us, b.p99Us, b.meanUs]) {
      expect(Number.isFinite(us)).toBe(true);
      expect(us).toBeGreaterThanOrEqual(0);
    }
    expect(b.p99Us).toBeGreaterThanOrEqual(b.p50Us);

    // the benchmark's policy is a valid document and decides as written
    const doc = hundredRulePolicy();
    expect(doc.rules).toHaveLength(100);
    const policy = compilePolicy(parsed(JSON.stringify(doc), 'json'));
    const r = (action: string, path: string) => ({ ...req(action, { path }), role: 'writer' });
    expect(evaluatePolicy(policy, r('file_read', '/mem/working/notes.txt'))).toMatchObject({ allowed: true });
    expect(evaluatePolicy(policy, r('file_read', '/mem/working/blocked-1.txt'))).toMatchObject({
      allowed: false,
      rule: 'rule-1',
      onViolation: 'deny',
    });
  });

  describe('names that are also Object.prototype members', () => {
    const NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty'] as const;
    // JSON.parse makes own properties even for `__proto__` (an object literal would set the prototype).
    const argsWith = (key: string, value: unknown): Record<string, unknown> =>
      JSON.parse(JSON.stringify({ [key]: value })) as Record<string, unknown>;
    const compiled = compilePolicy(base);

    it.each(NAMES)('%s as an action, role, agent, rule name or argument key decides like an unknown name', (n) => {
      const unknown = (name: string) => ({
        action: evaluatePolicy(compiled, req(name)),
        role: evaluatePolicy(compiled, req('file_read', {}, name)),
        both: evaluatePolicy(compiled, req(name, {}, name, name)),
      });
      const got = unknown(n);
      expect(got.action).toEqual({
        allowed: false,
        rule: 'role:writer',
        reason: `Role writer cannot use action ${n}`,
        shadow: false,
        onViolation: 'kill',
      });
      expect(got.role).toEqual({
        allowed: false,
        rule: 'defaults',
        reason: `Role ${n} cannot use action file_read`,
        shadow: false,
        onViolation: 'kill',
      });
      expect(got.both).toMatchObject({ allowed: false, rule: 'defaults', onViolation: 'kill' });
      const control = unknown('no_such_name');
      expect(got.action.rule).toBe(control.action.rule);
      expect(got.role.rule).toBe(control.role.rule);

      // an argument of that name is no path, and a condition on it sees only an own property
      expect(evaluatePolicy(compiled, req('file_read', argsWith(n, '/etc/passwd')))).toEqual(
        evaluatePolicy(compiled, req('file_read', argsWith('no_such_name', '/etc/passwd'))),
      );
      const onArg = (field: string): Partial<PolicyDocument> => ({
        rules: [{ name: n, when: { field, operator: 'ne', value: 'never' }, effect: 'deny', onViolation: 'deny' }],
      });
      for (const field of [`args.${n}`, `context.${n}`, n]) {
        expect(decide(onArg(field), req('file_read')).allowed).toBe(true);
      }
      expect(decide(onArg(`args.${n}`), req('file_read', argsWith(n, 'x')))).toEqual({
        allowed: false,
        rule: n,
        reason: `Rule ${n} denies action file_read`,
        shadow: false,
        onViolation: 'deny',
      });

      // a custom check on an argument of that name checks only an argument the agent gave
      const checked: Partial<PolicyDocument> = {
        argumentChecks: { custom: [{ name: n, fields: [n], patterns: ['.'], onViolation: 'deny' }] },
      };
      expect(decide(checked, req('file_read')).allowed).toBe(true);
      expect(decide(checked, req('file_read', argsWith(n, 'x')))).toMatchObject({ allowed: false, rule: `check:${n}` });

      // rules and rate limits of that name, matching actions, roles and agents of that name
      const named: Partial<PolicyDocument> = {
        roles: { writer: { allow: ['*'] } },
        rules: [
          { name: n, match: { actions: [n], roles: ['writer'], agents: [n] }, effect: 'deny', onViolation: 'deny' },
        ],
        rateLimits: [{ name: n, match: { actions: [n] }, perMinute: 1 }],
      };
      expect(decide(named, req(n, {}, 'writer', n))).toMatchObject({ allowed: false, rule: n });
      expect(decide(named, req(n, {}, 'writer', 'a1'), { count: () => 1 })).toMatchObject({
        allowed: false,
        rule: `rate:${n}`,
      });
      expect(decide(named, req('file_read', {}, 'writer', n), { count: () => 1 }).allowed).toBe(true);
      expect(() => diffPolicies({ ...base, ...named }, base)).not.toThrow();
      expect(diffPolicies({ ...base, ...named }, base).rules.removed).toEqual([n]);
    });

    it.each(NAMES)('a role named %s works when defined', (n) => {
      // parsed, as the kernel receives it: YAML and JSON both give an own property, even `__proto__`
      const yaml = parsed(
        `apiVersion: agentos/v1\nname: t\nroles:\n  ${n}:\n    allow: [file_read, ${n}]\n    context: {${n}: 7}\n`,
      );
      const json = parsed(JSON.stringify(yaml), 'json');
      for (const doc of [yaml, json]) {
        expect(Object.keys(doc.roles ?? {})).toEqual([n]);
        const p = compilePolicy(doc);
        expect(evaluatePolicy(p, req('file_read', {}, n))).toEqual({
          allowed: true,
          rule: `role:${n}`,
          reason: null,
          shadow: false,
          onViolation: null,
        });
        expect(evaluatePolicy(p, req(n, {}, n)).allowed).toBe(true);
        expect(evaluatePolicy(p, req('file_write', {}, n))).toMatchObject({ allowed: false, rule: `role:${n}` });
        expect(evaluatePolicy(p, req('file_read', {}, 'writer'))).toMatchObject({ allowed: false, rule: 'defaults' });
        expect(matchingRulesFor(p, n, 'file_read').map((v) => v.kind)).toEqual(['allow', 'defaults']);
      }
    });

    it('a role literally named constructor works in an object literal too', () => {
      const doc: Partial<PolicyDocument> = {
        roles: { constructor: { allow: ['file_read'], context: { level: 3 } } },
        rules: [{ name: 'low', when: { field: 'level', operator: 'lt', value: 3 }, effect: 'deny' }],
      };
      expect(decide(doc, req('file_read', {}, 'constructor'))).toMatchObject({
        allowed: true,
        rule: 'role:constructor',
      });
      expect(decide(doc, req('file_write', {}, 'constructor'))).toMatchObject({
        allowed: false,
        rule: 'role:constructor',
        onViolation: 'kill',
      });
      expect(decide(doc, req('file_read', {}, 'toString'))).toMatchObject({ allowed: false, rule: 'defaults' });
    });

    // matchingRulesFor once read `n.roles[role]` without an own-property check, so an undefined role
    // named like an Object.prototype member resolved to that member and threw (SYS_GETPOLICY -4).
    it.each(NAMES)('shows an undefined role named %s the defaults only (matchingRulesFor)', (n) => {
      expect(matchingRulesFor(compiled, n).map((v) => v.kind)).toEqual(['defaults']);
    });
  });
});
