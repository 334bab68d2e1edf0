import { AGENT_ID_PATTERN, TOOL_NAME_PATTERN, withSubjectPrefix } from '#contracts';

/**
 * Who a NATS user is. Agents and tools are many and short-lived (one credential each, minted by
 * the kernel); the services, the operator and the MCP gateway are few and long-lived.
 */
export type NatsRole =
  | { role: 'agent'; agentId: string }
  | { role: 'tool'; name: string }
  | { role: 'kernel' }
  | { role: 'policy' }
  | { role: 'recorder' }
  | { role: 'vfs' }
  | { role: 'operator' }
  | { role: 'mcp' };

export type ServiceRoleName = 'kernel' | 'policy' | 'recorder' | 'vfs' | 'operator' | 'mcp';
export const SERVICE_ROLES: readonly ServiceRoleName[] = ['kernel', 'policy', 'recorder', 'vfs', 'operator', 'mcp'];

export interface SubjectPermissions {
  /** Subjects this user may publish on; empty means nothing (replies aside, see allowResponses). */
  pub: string[];
  /** Subjects this user may subscribe to; empty means nothing. */
  sub: string[];
  /** May answer requests it received, on their reply subject only (one reply each). */
  allowResponses: boolean;
}

export interface PermissionOptions {
  /** First subject token of the deployment (AGENTOS_SUBJECT_PREFIX); default `agentos`. */
  subjectPrefix?: string;
}

export const DEFAULT_SUBJECT_PREFIX = 'agentos';

/**
 * The reply-subject prefix a service must connect with (NATS `inboxPrefix` option). `$` cannot
 * appear in an agent id (AGENT_ID_PATTERN), so `_INBOX.$kernel` never collides with an agent's
 * private `_INBOX.<agentId>` and no agent can subscribe to a service's replies.
 */
export function serviceInboxPrefix(service: 'kernel' | 'policy' | 'vfs' | 'mcp'): string {
  return `_INBOX.$${service}`;
}

/** An agent's reply-subject prefix: only it may subscribe below it. */
export function agentInboxPrefix(agentId: string): string {
  return `_INBOX.${agentId}`;
}

/**
 * What a role may publish and subscribe to: the subject is the identity (docs/protocol.md).
 * Pure; subjects are written with the protocol's `agentos` token and moved onto the deployment's.
 */
export function permissionsFor(r: NatsRole, o: PermissionOptions = {}): SubjectPermissions {
  const prefix = o.subjectPrefix ?? DEFAULT_SUBJECT_PREFIX;
  if (!/^[A-Za-z0-9_-]+$/.test(prefix)) throw new Error(`invalid subject prefix ${JSON.stringify(prefix)}`);
  const p = (xs: string[]) => xs.map((s) => withSubjectPrefix(s, prefix));
  const grant = (pub: string[], sub: string[], allowResponses: boolean): SubjectPermissions => ({
    pub: p(pub),
    sub: p(sub),
    allowResponses,
  });
  switch (r.role) {
    case 'agent':
      // Validated here because the id becomes a subject token: `*`, `>` or `.` would widen the grant.
      if (!AGENT_ID_PATTERN.test(r.agentId)) throw new Error(`invalid agent id ${JSON.stringify(r.agentId)}`);
      return grant(
        [`agentos.v1.syscall.${r.agentId}`],
        [`${agentInboxPrefix(r.agentId)}.>`, `agentos.v1.signal.${r.agentId}`],
        false,
      );
    case 'tool':
      if (!TOOL_NAME_PATTERN.test(r.name)) throw new Error(`invalid tool name ${JSON.stringify(r.name)}`);
      return grant([], [`agentos.v1.tool.${r.name}`], true);
    case 'kernel':
      return grant(
        [
          'agentos.v1.recorder.append',
          'agentos.v1.recorder.read.>',
          'agentos.v1.recorder.head',
          'agentos.internal.recorder.>',
          'agentos.internal.vfs.>',
          'agentos.v1.tool.>',
          'agentos.v1.signal.>',
        ],
        ['agentos.v1.syscall.*', 'agentos.v1.admin.>', 'agentos.internal.feed.>', `${serviceInboxPrefix('kernel')}.>`],
        true,
      );
    case 'policy':
      return grant(
        ['agentos.v1.recorder.append', 'agentos.v1.recorder.read.>', 'agentos.v1.recorder.head'],
        ['agentos.v1.policy.>', 'agentos.internal.feed.>', `${serviceInboxPrefix('policy')}.>`],
        true,
      );
    case 'recorder':
      return grant(
        ['agentos.internal.feed.>', 'agentos.v1.events.appended'],
        ['agentos.v1.recorder.>', 'agentos.v1.audit.>', 'agentos.internal.recorder.>'],
        true,
      );
    case 'vfs':
      return grant(
        ['agentos.v1.recorder.read.>'],
        ['agentos.internal.vfs.>', 'agentos.internal.feed.>', `${serviceInboxPrefix('vfs')}.>`],
        true,
      );
    case 'operator':
      return grant(
        [
          'agentos.v1.admin.>',
          'agentos.v1.policy.>',
          'agentos.v1.audit.>',
          'agentos.v1.recorder.read.>',
          'agentos.v1.recorder.head',
          'agentos.v1.recorder.verify',
          'agentos.v1.recorder.health',
        ],
        ['_INBOX.>', 'agentos.v1.events.appended', 'agentos.v1.signal.>'],
        false,
      );
    case 'mcp':
      // The gateway speaks for many agents, so it may publish on any syscall subject; its
      // replies come back under its own inbox prefix, never under an agent's.
      return grant(['agentos.v1.syscall.*', 'agentos.v1.admin.tools.list'], [`${serviceInboxPrefix('mcp')}.>`], false);
  }
}

/** A readable name for the user JWT (`agent:a1`, `tool:lookup`, `kernel`). */
export function roleLabel(r: NatsRole): string {
  if (r.role === 'agent') return `agent:${r.agentId}`;
  if (r.role === 'tool') return `tool:${r.name}`;
  return r.role;
}
