import { compilePolicy, evaluatePolicy, matchingRulesFor, diffPolicies, normalizePolicy, parsePolicyDocument, policyContentHash, benchmarkDecisions } from './index.js';

const show = (label: string, f: () => unknown) => {
  try { console.log(label, JSON.stringify(f())); } catch (e) { console.log(label, 'THROWS', (e as Error).message); }
};
const NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty'];
it('probe', () => {
  const base = { apiVersion: 'agentos/v1' as const, name: 't', roles: { writer: { allow: ['file_read'] } } };
  const p = compilePolicy(base);
  for (const n of NAMES) {
    show(`matching role ${n}`, () => matchingRulesFor(p, n));
    show(`matching action ${n}`, () => matchingRulesFor(p, 'writer', n, n));
    show(`decide role ${n}`, () => evaluatePolicy(p, { agentId: n, role: n, action: n, syscall: n, args: JSON.parse(`{"${n}": "/etc/passwd"}`), ring: 3 }));
    const json = JSON.stringify({ apiVersion: 'agentos/v1', name: n, roles: { [n]: { allow: [n], context: { [n]: 1 } } }, rules: [{ name: n, match: { actions: [n], roles: [n], agents: [n] }, when: { field: `args.${n}`, operator: 'eq', value: 1 }, effect: 'deny', onViolation: 'deny' }], rateLimits: [{ name: n, match: { actions: [n] }, perMinute: 1 }], argumentChecks: { custom: [{ name: n, fields: [n], patterns: ['x'] }] } });
    show(`parse json ${n}`, () => { const r = parsePolicyDocument(json, 'json'); return r.ok ? Object.keys((r.document.roles)!) : r.errors; });
    const yaml = `apiVersion: agentos/v1\nname: y\nroles:\n  ${n}: {allow: [${n}]}\nrules: [{name: ${n}, effect: deny}]\n`;
    show(`parse yaml ${n}`, () => { const r = parsePolicyDocument(yaml, 'yaml'); return r.ok ? [Object.keys(r.document.roles!), Object.getPrototypeOf(r.document.roles) === Object.prototype] : r.errors; });
    show(`compile+decide json ${n}`, () => {
      const r = parsePolicyDocument(json, 'json'); if (!r.ok) return 'parse failed';
      const c = compilePolicy(r.document);
      return [
        evaluatePolicy(c, { agentId: n, role: n, action: n, syscall: 'S', args: {}, ring: 3 }),
        evaluatePolicy(c, { agentId: 'x', role: n, action: n, syscall: 'S', args: JSON.parse(`{"${n}": 1}`), ring: 3 }),
        evaluatePolicy(c, { agentId: 'x', role: n, action: n, syscall: 'S', args: JSON.parse(`{"${n}": "x"}`), ring: 3 }, { count: () => 0 }),
        evaluatePolicy(c, { agentId: 'x', role: n, action: n, syscall: 'S', args: {}, ring: 3 }, { count: () => 5 }),
        matchingRulesFor(c, n, n, n).map((v) => v.kind),
        diffPolicies(r.document, base).roles, policyContentHash(r.document).length,
      ];
    });
  }
  show('bench', () => benchmarkDecisions(2000));
  show('norm', () => normalizePolicy(base).roles);
});
