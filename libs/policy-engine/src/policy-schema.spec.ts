import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { POLICY_JSON_SCHEMA } from './policy-schema.js';
import { parsePolicyDocument } from './parse-policy.js';

describe('published policy schema', () => {
  it('docs/policy.schema.json is the schema the engine validates with (regenerate: agentos policy schema)', () => {
    const published = JSON.parse(
      readFileSync(fileURLToPath(new URL('../../../docs/policy.schema.json', import.meta.url)), 'utf8'),
    );
    expect(published).toEqual(JSON.parse(JSON.stringify(POLICY_JSON_SCHEMA)));
  });

  it('accepts the example policy', () => {
    const text = readFileSync(fileURLToPath(new URL('../../../examples/policies/fleet.yaml', import.meta.url)), 'utf8');
    expect(parsePolicyDocument(text)).toMatchObject({ ok: true });
  });
});
