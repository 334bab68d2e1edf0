import { OPERATORS } from './policy-document.js';

/*
 * The published JSON Schema of policy documents. libs/policy-engine/policy-schema.json is this,
 * checked by a test to stay identical; `agentos policy schema` prints it. Conditions and allow
 * entries are told apart with if/then/else rather than oneOf, so that an error names the one
 * field that is wrong instead of every alternative that failed.
 */
const onViolation = { enum: ['kill', 'deny', 'audit'] };
const effect = { enum: ['allow', 'deny'] };
const ruleName = { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,128}$' };
const actionName = { type: 'string', minLength: 1, maxLength: 128 };
const actions = { type: 'array', items: actionName, maxItems: 1000 };
const names = { type: 'array', items: { type: 'string', minLength: 1, maxLength: 128 }, maxItems: 1000 };
const fields = { type: 'array', items: { type: 'string', minLength: 1, maxLength: 128 }, maxItems: 50 };
const patterns = { type: 'array', items: { type: 'string', minLength: 1, maxLength: 512 }, maxItems: 100 };
const prefixes = { type: 'array', items: { type: 'string', minLength: 1, maxLength: 512 }, maxItems: 100 };
const message = { type: 'string', maxLength: 1024 };
const description = { type: 'string', maxLength: 4096 };
const check = { enabled: { type: 'boolean' }, actions, fields, onViolation };
const condition = { $ref: '#/$defs/condition' };

export const POLICY_JSON_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://agentos.dev/schemas/policy-v1.json',
  title: 'Agent OS policy document',
  type: 'object',
  additionalProperties: false,
  required: ['apiVersion', 'name'],
  properties: {
    apiVersion: { const: 'agentos/v1' },
    name: { type: 'string', minLength: 1, maxLength: 128 },
    description,
    defaults: {
      type: 'object',
      additionalProperties: false,
      properties: { action: effect, effect, onViolation },
    },
    roles: {
      type: 'object',
      maxProperties: 1000,
      propertyNames: { pattern: '^[A-Za-z0-9_.:-]{1,128}$' },
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        properties: {
          allow: { type: 'array', maxItems: 1000, items: { $ref: '#/$defs/allowEntry' } },
          deny: actions,
          context: { type: 'object' },
        },
      },
    },
    rules: {
      type: 'array',
      maxItems: 1000,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'effect'],
        properties: {
          name: ruleName,
          description,
          priority: { type: 'integer', minimum: -1000000, maximum: 1000000 },
          match: { type: 'object', additionalProperties: false, properties: { actions, roles: names, agents: names } },
          when: condition,
          effect,
          onViolation,
          message,
        },
      },
    },
    argumentChecks: {
      type: 'object',
      additionalProperties: false,
      properties: {
        protectedPaths: { type: 'object', additionalProperties: false, properties: { ...check, prefixes } },
        pathTraversal: { type: 'object', additionalProperties: false, properties: { ...check } },
        dangerousCode: { type: 'object', additionalProperties: false, properties: { ...check, patterns } },
        destructiveSql: { type: 'object', additionalProperties: false, properties: { ...check, patterns } },
        internalEndpoints: { type: 'object', additionalProperties: false, properties: { ...check, prefixes } },
        custom: {
          type: 'array',
          maxItems: 50,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['name', 'fields', 'patterns'],
            properties: { name: ruleName, actions, fields, patterns, onViolation, message },
          },
        },
      },
    },
    rateLimits: {
      type: 'array',
      maxItems: 100,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name'],
        properties: {
          name: ruleName,
          match: { type: 'object', additionalProperties: false, properties: { actions, roles: names } },
          perMinute: { type: 'integer', minimum: 1, maximum: 1000000 },
          perHour: { type: 'integer', minimum: 1, maximum: 100000000 },
          onViolation,
          message,
        },
      },
    },
  },
  $defs: {
    allowEntry: {
      if: { type: 'object' },
      then: {
        type: 'object',
        additionalProperties: false,
        required: ['action', 'when'],
        properties: { action: actionName, when: condition },
      },
      else: actionName,
    },
    condition: {
      type: 'object',
      if: { properties: { all: true }, required: ['all'] },
      then: { $ref: '#/$defs/allCondition' },
      else: {
        if: { properties: { any: true }, required: ['any'] },
        then: { $ref: '#/$defs/anyCondition' },
        else: {
          if: { properties: { not: true }, required: ['not'] },
          then: { $ref: '#/$defs/notCondition' },
          else: { $ref: '#/$defs/fieldCondition' },
        },
      },
    },
    fieldCondition: {
      type: 'object',
      additionalProperties: false,
      required: ['field', 'operator', 'value'],
      properties: {
        field: { type: 'string', maxLength: 256, pattern: '^[A-Za-z0-9_$-]+(\\.[A-Za-z0-9_$-]+)*$' },
        operator: { enum: [...OPERATORS] },
        value: {},
      },
    },
    allCondition: {
      type: 'object',
      additionalProperties: false,
      required: ['all'],
      properties: { all: { type: 'array', minItems: 1, maxItems: 100, items: condition } },
    },
    anyCondition: {
      type: 'object',
      additionalProperties: false,
      required: ['any'],
      properties: { any: { type: 'array', minItems: 1, maxItems: 100, items: condition } },
    },
    notCondition: {
      type: 'object',
      additionalProperties: false,
      required: ['not'],
      properties: { not: condition },
    },
  },
} as const;
