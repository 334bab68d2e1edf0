import { OPERATORS } from './policy-document.js';

/**
 * The seed's later declarative format (agent_os/policies/schema.py), as far as it can be
 * imported: rules with one condition each, and the fields the seed's rule engine itself ignores
 * (sandbox budgets, folder inheritance). Not published: documents are written in ours.
 */
export const SEED_POLICY_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  additionalProperties: false,
  required: ['rules'],
  properties: {
    version: { type: ['string', 'number'] },
    name: { type: 'string', maxLength: 128 },
    description: { type: 'string', maxLength: 4096 },
    rules: {
      type: 'array',
      maxItems: 1000,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'condition', 'action'],
        properties: {
          name: { type: 'string', minLength: 1, maxLength: 128 },
          condition: {
            type: 'object',
            additionalProperties: false,
            required: ['field', 'operator', 'value'],
            properties: {
              field: { type: 'string', minLength: 1, maxLength: 256 },
              operator: { enum: [...OPERATORS] },
              value: {},
            },
          },
          action: { enum: ['allow', 'deny', 'audit', 'block'] },
          priority: { type: 'integer' },
          message: { type: 'string', maxLength: 1024 },
          override: { type: 'boolean' },
        },
      },
    },
    defaults: {
      type: 'object',
      properties: { action: { enum: ['allow', 'deny', 'audit', 'block'] } },
    },
    inherit: { type: 'boolean' },
    scope: { type: ['string', 'null'] },
    network_allowlist: { type: 'array' },
    tool_allowlist: { type: 'array', items: { type: 'string' } },
    a2a_conversation_policy: { type: 'object' },
  },
} as const;
