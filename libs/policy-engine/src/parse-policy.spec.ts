import { parsePolicyDocument } from './parse-policy.js';

const ok = (text: string, format: 'yaml' | 'json' = 'yaml') => {
  const r = parsePolicyDocument(text, format);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r;
};
const errors = (text: string, format: 'yaml' | 'json' = 'yaml') => {
  const r = parsePolicyDocument(text, format);
  if (r.ok) throw new Error('expected errors');
  return r.errors;
};
const rule = (when: string) =>
  `apiVersion: agentos/v1\nname: x\nrules:\n  - name: r\n    effect: deny\n    when: ${when}\n`;

describe('parsePolicyDocument: reading', () => {
  it('reads a YAML document as written (defaults are filled in later, by normalisation)', () => {
    const r = ok(`
apiVersion: agentos/v1
name: team
defaults: { action: deny, onViolation: kill }
roles:
  writer:
    allow: [file_read, file_write, { action: refund, when: { field: args.amount, operator: lte, value: 500 } }]
    deny: [agent_spawn]
rules:
  - name: no-secrets
    priority: 10
    match: { actions: [file_write] }
    when: { field: args.path, operator: contains, value: secret }
    effect: deny
    onViolation: deny
`);
    expect(r.importedFrom).toBeUndefined();
    expect(r.document.roles?.writer.deny).toEqual(['agent_spawn']);
    expect(r.document.rules?.[0]).toEqual({
      name: 'no-secrets',
      priority: 10,
      match: { actions: ['file_write'] },
      when: { field: 'args.path', operator: 'contains', value: 'secret' },
      effect: 'deny',
      onViolation: 'deny',
    });
  });

  it('reads the same document from JSON', () => {
    const r = ok('{"apiVersion": "agentos/v1", "name": "x", "roles": {"w": {"allow": ["file_read"]}}}', 'json');
    expect(r.document).toEqual({ apiVersion: 'agentos/v1', name: 'x', roles: { w: { allow: ['file_read'] } } });
  });
});

describe('parsePolicyDocument: every problem has its field and line', () => {
  it('in YAML: wrong values, unknown operators, unknown fields, missing fields', () => {
    const e = errors(`apiVersion: agentos/v1
name: team
rules:
  - name: a
    effect: allow
  - name: b
    effect: maybe
    when: { field: args.x, operator: approx, value: 1 }
  - effect: deny
    priority: high
    bogus: 1
`);
    expect(e).toEqual([
      { field: 'rules[1].effect', line: 7, column: 13, message: 'must be one of "allow", "deny"' },
      {
        field: 'rules[1].when.operator',
        line: 8,
        column: 38,
        message: 'must be one of "eq", "ne", "gt", "lt", "gte", "lte", "in", "not_in", "contains", "matches"',
      },
      { field: 'rules[2].name', line: 9, column: 5, message: 'is required' },
      { field: 'rules[2].priority', line: 10, column: 15, message: 'must be an integer' },
      { field: 'rules[2].bogus', line: 11, column: 5, message: 'unknown field' },
    ]);
  });

  it('in JSON: the same fields and lines, and syntax errors with their line', () => {
    const e = errors(
      '{\n  "apiVersion": "agentos/v1",\n  "name": "x",\n  "rulez": [],\n  "rules": [{"name": 3}]\n}',
      'json',
    );
    expect(e).toEqual([
      { field: 'rulez', line: 4, column: 3, message: 'unknown field' },
      { field: 'rules[0].effect', line: 5, column: 13, message: 'is required' },
      { field: 'rules[0].name', line: 5, column: 22, message: 'must be a string' },
    ]);
    const syntax = errors('{\n  "apiVersion": "agentos/v1",\n  "name": \n}', 'json');
    expect(syntax[0]).toMatchObject({ field: '', line: 4, column: 1, message: 'not valid JSON: ValueExpected' });
    expect(errors('{"a": 1,}', 'json')[0].message).toMatch(/not valid JSON/);
    expect(errors('{"a": 1} // no comments', 'json')[0].message).toMatch(/not valid JSON/);
    expect(errors('', 'json')[0].message).toMatch(/not valid JSON/);
  });

  it('refuses duplicate keys in YAML and JSON (the last one would win silently)', () => {
    expect(errors('apiVersion: agentos/v1\nname: x\nname: y\n')[0]).toMatchObject({ line: 3 });
    expect(errors('{"apiVersion": "agentos/v1",\n "name": "x",\n "name": "y"}', 'json')).toEqual([
      { field: 'name', line: 3, column: 2, message: "duplicate key 'name'" },
    ]);
  });

  it('requires apiVersion and name, and says so at the document', () => {
    expect(errors('name: x\n')).toEqual([{ field: 'apiVersion', line: 1, column: 1, message: 'is required' }]);
    expect(errors('apiVersion: agentos/v2\nname: x\n')).toEqual([
      { field: 'apiVersion', line: 1, column: 13, message: 'must be "agentos/v1"' },
    ]);
    expect(errors('just text')[0]).toMatchObject({ field: '', message: 'must be an object' });
    expect(errors('')[0]).toMatchObject({ field: '', message: 'must be an object' });
  });

  it('refuses duplicate and reserved rule names, duplicate limits and checks, and limits without a rate', () => {
    const e = errors(`apiVersion: agentos/v1
name: x
rules:
  - { name: a, effect: deny }
  - { name: a, effect: allow }
  - { name: 'check:x', effect: allow }
rateLimits:
  - { name: w, perMinute: 5 }
  - { name: w, perHour: 5 }
  - { name: v }
argumentChecks:
  custom:
    - { name: pathTraversal, fields: [q], patterns: [x] }
`);
    expect(e.map((x) => [x.field, x.line, x.message])).toEqual([
      ['rules[1].name', 5, "duplicate rule name 'a' (first at rules[0])"],
      ['rules[2].name', 6, "'check:x' is reserved for the engine's own decisions"],
      ['rateLimits[1].name', 9, "duplicate rate limit name 'w'"],
      ['rateLimits[2]', 10, 'needs perMinute or perHour'],
      ['argumentChecks.custom[0].name', 13, "duplicate check name 'pathTraversal'"],
    ]);
  });

  it('checks that operators get values they can compare', () => {
    expect(errors(rule('{ field: args.q, operator: in, value: 3 }'))).toEqual([
      { field: 'rules[0].when.value', line: 6, column: 49, message: 'operator in needs a list' },
    ]);
    expect(errors(rule('{ field: args.q, operator: gt, value: [1] }'))[0].message).toBe(
      'operator gt needs a number or a string',
    );
    expect(errors(rule('{ field: args.q, operator: eq }'))[0]).toMatchObject({
      field: 'rules[0].when.value',
      message: 'is required',
    });
    expect(errors(rule('{ field: "args..q", operator: eq, value: 1 }'))[0].field).toBe('rules[0].when.field');
  });

  it('locates errors inside all/any/not and conditional allow entries', () => {
    const e = errors(`apiVersion: agentos/v1
name: x
roles:
  support:
    allow:
      - { action: refund, when: { any: [{ field: args.a, operator: lt, value: 1 }, { field: args.b, operator: nope, value: 1 }] } }
      - 42
`);
    expect(e.map((x) => [x.field, x.line, x.message])).toEqual([
      ['roles.support.allow[0].when.any[1].operator', 6, expect.stringMatching(/^must be one of/)],
      ['roles.support.allow[1]', 7, 'must be a string'],
    ]);
    // the rules a schema cannot say are checked once the schema is satisfied
    const deep = errors(`apiVersion: agentos/v1
name: x
rules:
  - name: r
    effect: deny
    when:
      all:
        - not: { field: args.q, operator: matches, value: '(a+)+$' }
`);
    expect(deep.map((x) => [x.field, x.line])).toEqual([['rules[0].when.all[0].not.value', 8]]);
  });

  it('refuses yaml warnings (unresolved tags) and several documents in one text', () => {
    expect(errors('apiVersion: agentos/v1\nname: !custom x\n')[0]).toMatchObject({ line: 2 });
    expect(errors('apiVersion: agentos/v1\nname: x\n---\nname: y\n')[0].message).toMatch(/multiple documents/);
  });

  it('refuses values that are not JSON data', () => {
    expect(errors(rule('{ field: args.q, operator: eq, value: .nan }'))).toEqual([
      { field: 'rules[0].when.value', line: 6, column: 49, message: 'must be a finite number' },
    ]);
    expect(errors(rule('{ field: args.q, operator: eq, value: !!binary aGVsbG8= }'))[0].message).toMatch(/JSON data/);
    expect(errors(rule('{ field: args.q, operator: eq, value: "\\ud800" }'))[0].message).toMatch(/lone surrogate/);
  });

  it('reports at most 100 problems for a document full of them', () => {
    const rules = Array.from({ length: 300 }, (_, i) => `  - { name: r${i}, effect: nope }`).join('\n');
    expect(errors(`apiVersion: agentos/v1\nname: x\nrules:\n${rules}\n`)).toHaveLength(100);
  });
});

describe('parsePolicyDocument: hostile documents are refused, never crash or hang', () => {
  it('refuses documents over 256 KiB', () => {
    expect(errors(`apiVersion: agentos/v1\nname: x\ndescription: "${'x'.repeat(300 * 1024)}"\n`)).toEqual([
      { field: '', message: expect.stringMatching(/^the document is \d+ bytes; the limit is 262144$/) },
    ]);
  });

  it('refuses nesting deeper than 32, in block or flow style, exactly at the limit', () => {
    const nested = (levels: number) => `${'{a: '.repeat(levels)}1${'}'.repeat(levels)}`;
    // the document, roles and r are 3 levels: 29 more make 32
    expect(ok(`apiVersion: agentos/v1\nname: x\nroles:\n  r:\n    context: ${nested(29)}\n`).document.name).toBe('x');
    const tooDeep = errors(`apiVersion: agentos/v1\nname: x\nroles:\n  r:\n    context: ${nested(30)}\n`);
    expect(tooDeep).toEqual([
      {
        field: `roles.r.context${'.a'.repeat(29)}`,
        line: 5,
        column: '    context: '.length + 29 * '{a: '.length + 1,
        message: 'the document is nested deeper than 32 levels',
      },
    ]);
    let block = 'apiVersion: agentos/v1\nname: x\nroles:\n  r:\n    context:\n';
    for (let i = 0; i < 40; i++) block += `${' '.repeat(6 + 2 * i)}k${i}:\n`;
    expect(errors(block)[0]).toMatchObject({ line: 35, message: 'the document is nested deeper than 32 levels' });
  });

  it('refuses pathological nesting before yaml parses it, repeatedly, in well under a second', () => {
    const hostile = [
      '['.repeat(100_000) + ']'.repeat(100_000),
      '{a: '.repeat(50_000),
      '- '.repeat(100_000) + 'x',
      '{"a": '.repeat(5_000) + '1' + '}'.repeat(5_000),
    ];
    const t0 = performance.now();
    for (let round = 0; round < 3; round++) {
      for (const text of hostile) {
        expect(errors(text)[0]).toMatchObject({ line: 1, message: 'the document is nested deeper than 32 levels' });
        expect(errors(text, 'json')[0].message).toBe('the document is nested deeper than 32 levels');
      }
    }
    expect(performance.now() - t0).toBeLessThan(5000);
  });

  it('refuses alias bombs (yaml maxAliasCount) and self-referencing aliases', () => {
    const letters = 'abcdefghij';
    const bomb = [
      'apiVersion: agentos/v1',
      'name: x',
      'roles:',
      '  r:',
      '    context:',
      `      a: &a [x, x, x, x, x, x, x, x, x, x]`,
      ...Array.from(
        { length: 8 },
        (_, i) => `      ${letters[i + 1]}: &${letters[i + 1]} [${Array(10).fill(`*${letters[i]}`).join(', ')}]`,
      ),
    ].join('\n');
    expect(errors(bomb)).toEqual([{ field: '', message: 'the document expands aliases too often (at most 100)' }]);
    const cycle = 'apiVersion: agentos/v1\nname: x\nroles:\n  r:\n    context: &c { self: *c }\n';
    expect(errors(cycle)[0].message).toMatch(/nested deeper than 32|alias/);
    // a few aliases are fine
    expect(
      ok('apiVersion: agentos/v1\nname: x\nroles:\n  a: &r { allow: [file_read] }\n  b: *r\n').document.roles?.b,
    ).toEqual({ allow: ['file_read'] });
  });

  it('refuses more than 1000 rules', () => {
    const rules = Array.from({ length: 1001 }, (_, i) => `  - {name: r${i}, effect: deny}`).join('\n');
    expect(errors(`apiVersion: agentos/v1\nname: x\nrules:\n${rules}\n`)).toEqual([
      { field: 'rules', line: 4, column: 3, message: 'has more than 1000 entries' },
    ]);
  });

  it('refuses regular expressions that are invalid, too long or could run away, in rules and custom checks', () => {
    expect(errors(rule(`{ field: args.q, operator: matches, value: '(a+)+$' }`))).toEqual([
      {
        field: 'rules[0].when.value',
        line: 6,
        column: 54,
        message: 'the regular expression could backtrack catastrophically (nested quantifiers)',
      },
    ]);
    expect(errors(rule(`{ field: args.q, operator: matches, value: '(unclosed' }`))[0].message).toMatch(
      /^invalid regular expression/,
    );
    expect(errors(rule(`{ field: args.q, operator: matches, value: '${'a'.repeat(513)}' }`))[0].message).toBe(
      'the regular expression is longer than 512 characters',
    );
    expect(errors(rule('{ field: args.q, operator: matches, value: 3 }'))[0].message).toMatch(/non-empty string/);
    expect(
      ok(rule(`{ field: args.q, operator: matches, value: '^/mem/working/[a-z]+$' }`)).document.rules,
    ).toHaveLength(1);
    const custom = `apiVersion: agentos/v1\nname: x\nargumentChecks:\n  dangerousCode:\n    patterns: ['ok', '(a*)*b']\n  custom:\n    - name: secrets\n      fields: [q]\n      patterns: ['(x+x+)+y']\n`;
    expect(errors(custom).map((e) => [e.field, e.line])).toEqual([
      ['argumentChecks.dangerousCode.patterns[1]', 5],
      ['argumentChecks.custom[0].patterns[0]', 9],
    ]);
  });

  it('refuses non-text input without throwing', () => {
    expect(parsePolicyDocument(42 as unknown as string)).toEqual({
      ok: false,
      errors: [{ field: '', message: 'the document must be text' }],
    });
  });
});
