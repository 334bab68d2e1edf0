import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { POLICY_JSON_SCHEMA } from './policy-schema.js';
import { SEED_POLICY_SCHEMA } from './seed-schema.js';

let policy: ValidateFunction | undefined;
let seed: ValidateFunction | undefined;
let ajv: Ajv2020 | undefined;

/** Compiled on first use: it costs tens of milliseconds, and most processes only evaluate. */
function compiler(): Ajv2020 {
  return (ajv ??= new Ajv2020({ allErrors: true, strict: false }));
}

export function policySchemaValidator(): ValidateFunction {
  return (policy ??= compiler().compile(POLICY_JSON_SCHEMA));
}

export function seedSchemaValidator(): ValidateFunction {
  return (seed ??= compiler().compile(SEED_POLICY_SCHEMA));
}
