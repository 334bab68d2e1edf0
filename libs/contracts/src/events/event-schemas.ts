import { SIGNALS } from '../protocol/signals.js';
import { EventTypes } from './event-types.js';

/**
 * The JSON Schema (draft 2020-12) of every event type and schema version the system writes.
 * The recorder refuses any event that does not match its type's schema before it enters the log,
 * so a fold never meets a shape it does not know; the folds still check what they read, for
 * logs written before these schemas existed. Published in docs/events.md.
 */
type Schema = Record<string, unknown> | boolean;

const SIGNAL_NAMES = Object.keys(SIGNALS);
const LIFECYCLE = ['running', 'stopped', 'terminated'];
const ISO_TIME = { type: 'string', minLength: 20, maxLength: 40, pattern: '^\\d{4}-\\d\\d-\\d\\dT' };
const AGENT_ID = { type: 'string', pattern: '^[A-Za-z0-9_-]{1,128}$' };
const ROLE = { type: 'string', minLength: 1, maxLength: 64 };
const TEXT = (max: number) => ({ type: 'string', maxLength: max });
const NULLABLE = (s: Schema) => ({ anyOf: [s, { type: 'null' }] });
const INT = { type: 'integer' };
const COUNT = { type: 'integer', minimum: 0 };
/** A NATS user public key (NKey). */
const USER_KEY = { type: 'string', pattern: '^U[A-Z2-7]{55}$' };

function object(properties: Record<string, Schema>, required: string[]): Record<string, unknown> {
  return { type: 'object', properties, required, additionalProperties: false };
}

const DECISION = object(
  {
    allowed: { type: 'boolean' },
    mode: { enum: ['permissive', 'fail_closed', 'policy', 'skipped'] },
    action: NULLABLE(TEXT(256)),
    policyVersion: NULLABLE(COUNT),
    rule: NULLABLE(TEXT(256)),
    reason: NULLABLE(TEXT(8192)),
    shadow: { type: 'boolean' },
    onViolation: NULLABLE({ enum: ['kill', 'deny', 'audit'] }),
  },
  ['allowed', 'mode', 'action', 'policyVersion', 'rule', 'reason', 'shadow', 'onViolation'],
);

const RESULT = object(
  {
    success: { type: 'boolean' },
    returnValue: true,
    errorCode: NULLABLE(INT),
    errorMessage: NULLABLE(TEXT(65536)),
  },
  ['success', 'returnValue', 'errorCode', 'errorMessage'],
);

const VFS_PATH = { type: 'string', minLength: 1, maxLength: 1024 };
const VFS_EFFECT = {
  oneOf: [
    object(
      {
        op: { const: 'write' },
        path: VFS_PATH,
        mode: { enum: ['w', 'a'] },
        encoding: { enum: ['utf8', 'base64'] },
        bytes: COUNT,
      },
      ['op', 'path', 'mode', 'encoding', 'bytes'],
    ),
    object(
      { op: { const: 'open' }, path: VFS_PATH, mode: { enum: ['r', 'w', 'a'] }, fd: { type: 'integer', minimum: 1 } },
      ['op', 'path', 'mode', 'fd'],
    ),
    object({ op: { const: 'close' }, fd: { type: 'integer', minimum: 1 } }, ['op', 'fd']),
  ],
};

const KERNEL_EFFECT = {
  oneOf: [
    object({ op: { const: 'exit' }, code: INT }, ['op', 'code']),
    object(
      {
        op: { const: 'sigaction' },
        signal: { enum: SIGNAL_NAMES },
        disposition: { enum: ['default', 'ignore', 'handle'] },
      },
      ['op', 'signal', 'disposition'],
    ),
    object({ op: { const: 'sigprocmask' }, blocked: { type: 'array', maxItems: 32, items: { enum: SIGNAL_NAMES } } }, [
      'op',
      'blocked',
    ]),
  ],
};

const SYSCALL_V1_PROPERTIES: Record<string, Schema> = {
  requestId: { type: 'string', minLength: 1, maxLength: 128 },
  syscall: TEXT(64),
  args: { type: 'object' },
  decision: DECISION,
  result: RESULT,
  vfs: VFS_EFFECT,
  kernel: KERNEL_EFFECT,
  transition: { enum: LIFECYCLE },
  at: ISO_TIME,
  executionTimeMs: { type: 'number', minimum: 0 },
};
const SYSCALL_REQUIRED = ['requestId', 'syscall', 'args', 'decision', 'result', 'at', 'executionTimeMs'];

const RETURNED = object(
  {
    kind: { const: 'content' },
    bytes: COUNT,
    sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
    encoding: { enum: ['utf8', 'base64'] },
  },
  ['kind', 'bytes', 'sha256', 'encoding'],
);

/** Every event type and schema version the recorder accepts, by `schemaKey`. */
export const EVENT_SCHEMAS: ReadonlyMap<string, Schema> = new Map<string, Schema>([
  [
    schemaKey(EventTypes.AgentCreated, 1),
    object({ agentId: AGENT_ID, role: ROLE, at: ISO_TIME }, ['agentId', 'role', 'at']),
  ],
  [
    schemaKey(EventTypes.AgentDestroyed, 1),
    object({ agentId: AGENT_ID, reason: TEXT(1024), at: ISO_TIME }, ['agentId', 'reason', 'at']),
  ],
  [schemaKey(EventTypes.SyscallRecorded, 1), object(SYSCALL_V1_PROPERTIES, SYSCALL_REQUIRED)],
  [
    schemaKey(EventTypes.SyscallRecorded, 2),
    object({ ...SYSCALL_V1_PROPERTIES, returned: RETURNED }, SYSCALL_REQUIRED),
  ],
  [
    schemaKey(EventTypes.SignalDelivered, 1),
    object(
      {
        signal: { enum: SIGNAL_NAMES },
        number: { type: 'integer', minimum: 1, maximum: 12 },
        source: TEXT(256),
        reason: TEXT(2048),
        outcome: { enum: ['default', 'blocked', 'ignored', 'handled', 'escalated', 'unblocked'] },
        fromPending: { type: 'boolean' },
        transition: { enum: LIFECYCLE },
        at: ISO_TIME,
      },
      ['signal', 'number', 'source', 'reason', 'outcome', 'at'],
    ),
  ],
  [
    schemaKey(EventTypes.ToolRegistered, 1),
    object(
      { name: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,128}$' }, description: NULLABLE(TEXT(4096)), at: ISO_TIME },
      ['name', 'description', 'at'],
    ),
  ],
  [
    schemaKey(EventTypes.PolicyApplied, 1),
    object(
      {
        version: { type: 'integer', minimum: 1 },
        hash: { type: 'string', pattern: '^[0-9a-f]{16,64}$' },
        name: TEXT(256),
        document: { type: 'object' },
        source: TEXT(512 * 1024),
        format: { enum: ['yaml', 'json'] },
        appliedBy: TEXT(256),
        reason: TEXT(4096),
        at: ISO_TIME,
      },
      ['version', 'hash', 'name', 'document', 'source', 'format', 'appliedBy', 'reason', 'at'],
    ),
  ],
  [
    schemaKey(EventTypes.PolicyActivated, 1),
    object(
      {
        version: { type: 'integer', minimum: 1 },
        hash: { type: 'string', pattern: '^[0-9a-f]{16,64}$' },
        previousVersion: NULLABLE({ type: 'integer', minimum: 1 }),
        appliedBy: TEXT(256),
        reason: TEXT(4096),
        at: ISO_TIME,
      },
      ['version', 'hash', 'previousVersion', 'appliedBy', 'reason', 'at'],
    ),
  ],
  [
    schemaKey(EventTypes.CredentialIssued, 1),
    object({ publicKey: USER_KEY, expiresAt: NULLABLE(ISO_TIME), at: ISO_TIME }, ['publicKey', 'expiresAt', 'at']),
  ],
  [
    schemaKey(EventTypes.CredentialRevoked, 1),
    object({ publicKey: USER_KEY, reason: TEXT(1024), at: ISO_TIME }, ['publicKey', 'reason', 'at']),
  ],
  [
    schemaKey(EventTypes.SignalSent, 1),
    object({ target: AGENT_ID, signal: { enum: SIGNAL_NAMES }, source: TEXT(256), reason: TEXT(2048), at: ISO_TIME }, [
      'target',
      'signal',
      'source',
      'reason',
      'at',
    ]),
  ],
  [
    schemaKey(EventTypes.PolicyFence, 1),
    object(
      {
        activation: { type: 'integer', minimum: 0 },
        activeVersion: NULLABLE({ type: 'integer', minimum: 1 }),
        hash: NULLABLE({ type: 'string', pattern: '^[0-9a-f]{16,64}$' }),
        at: ISO_TIME,
      },
      ['activation', 'activeVersion', 'hash', 'at'],
    ),
  ],
]);

/** Metadata every writer attaches; free-form values stay small. */
export const EVENT_METADATA_SCHEMA: Schema = {
  type: 'object',
  maxProperties: 32,
  propertyNames: { maxLength: 64 },
  additionalProperties: { anyOf: [TEXT(1024), { type: 'number' }, { type: 'boolean' }, { type: 'null' }] },
};

export function schemaKey(type: string, schemaVersion: number): string {
  return `${type}@${schemaVersion}`;
}
