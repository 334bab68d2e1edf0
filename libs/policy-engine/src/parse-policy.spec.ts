import { parsePolicyDocument } from './parse-policy.js';
import { policyContentHash } from './normalize-policy.js';

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

describe('parsePolicyDocument', () => {
  it('reads a YAML document', () => {
    const r = ok(`
apiVersion: agentos/v1
name: team
roles:
  writer:
    allow: [file_read, file_write]
rules:
  - name: no-secrets
    priority: 10
    match: { actions: [file_write] }
    when: { field: args.path, operator: contains, value: secret }
    effect: deny
    onViolation: deny
`);
    expect(r.document.rules?.[0]).toMatchObject({ name: 'no-secrets', effect: 'deny' });
  });

  it('names the line and the field of schema errors, in YAML', () => {
    const e = errors(`apiVersion: agentos/v1
name: team
rules:
  - name: a
    effect: allow
  - name: b
    effect: maybe
    when: { field: args.x, operator: approx, value: 1 }
`);
    expect(e).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          field: 'rules[1].effect',
          line: 7,
          message: expect.stringContaining('"allow", "deny"'),
        }),
        expect.objectContaining({ field: 'rules[1].when.operator', line: 8 }),
      ]),
    );
  });

  it('names the line and the field of errors in JSON too, and reports JSON syntax errors with a line', () => {
    const e = errors('{\n  "apiVersion": "agentos/v1",\n  "name": "x",\n  "rulez": []\n}', 'json');
    expect(e).toEqual([expect.objectContaining({ field: 'rulez', message: 'unknown field', line: 4 })]);
    const syntax = errors('{\n  "apiVersion": "agentos/v1",\n  "name": \n}', 'json');
    expect(syntax[0].message).toMatch(/not valid JSON/);
    expect(syntax[0].line).toBe(4);
  });

  it('reports missing required fields and duplicate names', () => {
    expect(errors('apiVersion: agentos/v1\n')).toEqual([
      expect.objectContaining({ field: '', message: "must have required property 'name'" }),
    ]);
    const dup = errors(
      'apiVersion: agentos/v1\nname: x\nrules:\n  - {name: a, effect: deny}\n  - {name: a, effect: allow}\n',
    );
    expect(dup).toEqual([
      expect.objectContaining({ field: 'rules[1].name', line: 5, message: "duplicate rule name 'a'" }),
    ]);
  });

  it('refuses huge, deeply nested and alias-bomb documents', () => {
    expect(errors(`apiVersion: agentos/v1\nname: x\ndescription: "${'x'.repeat(300 * 1024)}"\n`)[0].message).toMatch(
      /limit is 262144/,
    );
    const deep = `apiVersion: agentos/v1\nname: x\nroles:\n  r:\n    context: ${'{a: '.repeat(40)}1${'}'.repeat(40)}\n`;
    expect(errors(deep)[0].message).toMatch(/nested deeper than 32/);
    const bomb = [
      'a: &a [x, x, x, x, x, x, x, x, x, x]',
      ...Array.from(
        { length: 9 },
        (_, i) =>
          `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10)
            .fill(`*${String.fromCharCode(97 + i)}`)
            .join(', ')}]`,
      ),
    ].join('\n');
    expect(errors(bomb)[0].message).toMatch(/cannot be read|alias/i);
  });

  it('refuses regular expressions that are invalid or could run away', () => {
    const doc = (pattern: string) =>
      `apiVersion: agentos/v1\nname: x\nrules:\n  - name: r\n    effect: deny\n    when: { field: args.q, operator: matches, value: '${pattern}' }\n`;
    expect(errors(doc('(a+)+$'))[0]).toMatchObject({
      field: 'rules[0].when.value',
      message: expect.stringMatching(/catastrophically/),
    });
    expect(errors(doc('(unclosed'))[0].message).toMatch(/invalid regular expression/);
    expect(ok(doc('^/mem/working/[a-z]+$')).document.rules).toHaveLength(1);
    const custom = `apiVersion: agentos/v1\nname: x\nargumentChecks:\n  dangerousCode:\n    patterns: ['(a+)+b']\n`;
    expect(errors(custom)[0]).toMatchObject({ field: 'argumentChecks.dangerousCode.patterns[0]' });
  });

  it('rejects list operators without a list', () => {
    const e = errors(
      `apiVersion: agentos/v1\nname: x\nrules:\n  - name: r\n    effect: deny\n    when: { field: args.q, operator: in, value: 3 }\n`,
    );
    expect(e[0]).toMatchObject({ field: 'rules[0].when.value', message: 'operator in needs a list value' });
  });

  it('imports the seed declarative format', () => {
    const r = ok(`
version: "1.0"
name: seed-policy
rules:
  - name: block-drop
    condition: { field: query, operator: contains, value: DROP }
    action: block
    priority: 100
    message: no drops
  - name: audit-big
    condition: { field: amount, operator: gt, value: 1000 }
    action: audit
defaults:
  action: allow
`);
    expect(r.importedFrom).toBe('seed');
    expect(r.document.defaults).toEqual({ effect: 'allow', onViolation: 'deny' });
    expect(r.document.rules).toEqual([
      expect.objectContaining({
        name: 'block-drop',
        priority: 100,
        effect: 'deny',
        onViolation: 'deny',
        when: { field: 'args.query', operator: 'contains', value: 'DROP' },
      }),
      expect.objectContaining({ name: 'audit-big', effect: 'deny', onViolation: 'audit' }),
    ]);
  });

  it('hashes content, not formatting: key order, JSON vs YAML and implicit defaults do not matter', () => {
    const a = ok('apiVersion: agentos/v1\nname: x\nroles: {w: {allow: [file_read]}}\n').document;
    const b = ok(
      '{"roles": {"w": {"allow": ["file_read"]}}, "name": "x", "apiVersion": "agentos/v1", "defaults": {"effect": "deny"}}',
      'json',
    ).document;
    const c = ok('apiVersion: agentos/v1\nname: x\nroles: {w: {allow: [file_write]}}\n').document;
    expect(policyContentHash(a)).toBe(policyContentHash(b));
    expect(policyContentHash(a)).not.toBe(policyContentHash(c));
    expect(policyContentHash(a)).toMatch(/^[0-9a-f]{64}$/);
  });
});
