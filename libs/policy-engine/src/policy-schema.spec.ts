import { Ajv2020 } from 'ajv/dist/2020.js';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parsePolicyDocument } from './parse-policy.js';
import { POLICY_JSON_SCHEMA } from './policy-schema.js';

const read = (relative: string) => readFileSync(fileURLToPath(new URL(relative, import.meta.url)), 'utf8');

describe('the published policy schema', () => {
  it('policy-schema.json is POLICY_JSON_SCHEMA (regenerate: agentos policy schema > libs/policy-engine/policy-schema.json)', () => {
    expect(JSON.parse(read('../policy-schema.json'))).toEqual(JSON.parse(JSON.stringify(POLICY_JSON_SCHEMA)));
  });

  it('is a valid draft 2020-12 schema that other tools can validate documents with', () => {
    const ajv = new Ajv2020({ strict: true, allErrors: true });
    const validate = ajv.compile(JSON.parse(read('../policy-schema.json')));
    expect(validate({ apiVersion: 'agentos/v1', name: 'x', rules: [{ name: 'r', effect: 'deny' }] })).toBe(true);
    expect(validate({ apiVersion: 'agentos/v1', name: 'x', rules: [{ name: 'r', effect: 'maybe' }] })).toBe(false);
    expect(POLICY_JSON_SCHEMA.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
  });

  it('accepts the example policy of the repository', () => {
    expect(parsePolicyDocument(read('../../../examples/policies/fleet.yaml'))).toMatchObject({ ok: true });
  });
});
