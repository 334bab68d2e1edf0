/**
 * The published JSON Schema of policy documents (docs/policy.schema.json is generated from this
 * by `agentos policy schema` and checked by a test to stay identical).
 */
const onViolation = { enum: ['kill', 'deny', 'audit'] };
const actions = { type: 'array', items: { type: 'string', minLength: 1, maxLength: 128 }, maxItems: 1000 };
const names = { type: 'array', items: { type: 'string', minLength: 1, maxLength: 128 }, maxItems: 1000 };
const fields = { type: 'array', items: { type: 'string', minLength: 1, maxLength: 128 }, maxItems: 50 };
const patterns = { type: 'array', items: { type: 'string', minLength: 1, maxLength: 512 }, maxItems: 100 };
const prefixes = { type: 'array', items: { type: 'string', minLength: 1, maxLength: 512 }, maxItems: 100 };
const argumentCheck = {
  enabled: { type: 'boolean' },
  actions,
  fields,
  onViolation,
};

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
    description: { type: 'string', maxLength: 4096 },
    defaults: {
      type: 'object',
      additionalProperties: false,
      properties: { effect: { enum: ['allow', 'deny'] }, onViolation },
    },
    roles: {
      type: 'object',
      maxProperties: 1000,
      propertyNames: { pattern: '^[A-Za-z0-9_.-]{1,64}$' },
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        properties: {
          allow: {
            type: 'array',
            maxItems: 1000,
            items: {
              oneOf: [
                { type: 'string', minLength: 1, maxLength: 128 },
                {
                  type: 'object',
                  additionalProperties: false,
                  required: ['action', 'when'],
                  properties: {
                    action: { type: 'string', minLength: 1, maxLength: 128 },
                    when: { $ref: '#/$defs/condition' },
                  },
                },
              ],
            },
          },
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
          name: { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,128}$' },
          description: { type: 'string', maxLength: 4096 },
          priority: { type: 'integer', minimum: -1000000, maximum: 1000000 },
          match: {
            type: 'object',
            additionalProperties: false,
            properties: { actions, roles: names, agents: names },
          },
          when: { $ref: '#/$defs/condition' },
          effect: { enum: ['allow', 'deny'] },
          onViolation,
          message: { type: 'string', maxLength: 1024 },
        },
      },
    },
    argumentChecks: {
      type: 'object',
      additionalProperties: false,
      properties: {
        protectedPaths: { type: 'object', additionalProperties: false, properties: { ...argumentCheck, prefixes } },
        pathTraversal: { type: 'object', additionalProperties: false, properties: { ...argumentCheck } },
        dangerousCode: { type: 'object', additionalProperties: false, properties: { ...argumentCheck, patterns } },
        destructiveSql: { type: 'object', additionalProperties: false, properties: { ...argumentCheck, patterns } },
        internalEndpoints: { type: 'object', additionalProperties: false, properties: { ...argumentCheck, prefixes } },
      },
    },
    rateLimits: {
      type: 'array',
      maxItems: 100,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name'],
        anyOf: [{ required: ['perMinute'] }, { required: ['perHour'] }],
        properties: {
          name: { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,128}$' },
          match: { type: 'object', additionalProperties: false, properties: { actions, roles: names } },
          perMinute: { type: 'integer', minimum: 1, maximum: 1000000 },
          perHour: { type: 'integer', minimum: 1, maximum: 100000000 },
          onViolation,
          message: { type: 'string', maxLength: 1024 },
        },
      },
    },
  },
  $defs: {
    condition: {
      oneOf: [
        {
          type: 'object',
          additionalProperties: false,
          required: ['field', 'operator'],
          properties: {
            field: { type: 'string', pattern: '^[A-Za-z0-9_$-]+(\\.[A-Za-z0-9_$-]+)*$', maxLength: 256 },
            operator: { enum: ['eq', 'ne', 'gt', 'lt', 'gte', 'lte', 'in', 'not_in', 'contains', 'matches'] },
            value: {},
          },
        },
        {
          type: 'object',
          additionalProperties: false,
          required: ['all'],
          properties: { all: { type: 'array', minItems: 1, maxItems: 100, items: { $ref: '#/$defs/condition' } } },
        },
        {
          type: 'object',
          additionalProperties: false,
          required: ['any'],
          properties: { any: { type: 'array', minItems: 1, maxItems: 100, items: { $ref: '#/$defs/condition' } } },
        },
        {
          type: 'object',
          additionalProperties: false,
          required: ['not'],
          properties: { not: { $ref: '#/$defs/condition' } },
        },
      ],
    },
  },
} as const;
