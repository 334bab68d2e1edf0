/**
 * NATS subjects, written with the protocol's first token `agentos`; a deployment with another
 * AGENTOS_SUBJECT_PREFIX has it substituted by the transport and the clients.
 *
 * `agentos.v1.syscall|signal|tool|admin.*` are the public contract (docs/protocol.md);
 * `agentos.v1.recorder|policy|audit.*` are the documented operator APIs (docs/subjects.md);
 * `agentos.internal.*` are between services and may change without notice.
 */
export const Subjects = {
  syscall: (agentId: string) => `agentos.v1.syscall.${agentId}`,
  syscallAll: 'agentos.v1.syscall.*',
  signal: (agentId: string) => `agentos.v1.signal.${agentId}`,
  tool: (name: string) => `agentos.v1.tool.${name}`,

  adminAgentsCreate: 'agentos.v1.admin.agents.create',
  adminAgentsGet: 'agentos.v1.admin.agents.get',
  adminAgentsSignal: 'agentos.v1.admin.agents.signal',
  adminToolsRegister: 'agentos.v1.admin.tools.register',
  adminAgentsDestroy: 'agentos.v1.admin.agents.destroy',
  adminAgentsCredentials: 'agentos.v1.admin.agents.credentials',
  adminAgentsList: 'agentos.v1.admin.agents.list',
  adminAgentsDigest: 'agentos.v1.admin.agents.digest',
  adminToolsList: 'agentos.v1.admin.tools.list',
  adminKernelMetrics: 'agentos.v1.admin.kernel.metrics',

  policyValidate: 'agentos.v1.policy.validate',
  policyApply: 'agentos.v1.policy.apply',
  policyList: 'agentos.v1.policy.list',
  policyShow: 'agentos.v1.policy.show',
  policyDiff: 'agentos.v1.policy.diff',
  policyRollback: 'agentos.v1.policy.rollback',
  policySchema: 'agentos.v1.policy.schema',

  auditQuery: 'agentos.v1.audit.query',
  auditStats: 'agentos.v1.audit.stats',
  auditHead: 'agentos.v1.audit.head',

  recorderAppend: 'agentos.v1.recorder.append',
  /**
   * Internal: many appends of one partition in one message, `{requests, deadline?}` → `{outcomes}`
   * in request order (the partition in the subject lets recorders divide partitions among them).
   */
  recorderAppendBatch: (partition: number) => `agentos.internal.recorder.append.${partition}`,
  recorderAppendBatchAll: 'agentos.internal.recorder.append.*',
  recorderReadStream: 'agentos.v1.recorder.read.stream',
  recorderReadAll: 'agentos.v1.recorder.read.all',
  recorderHead: 'agentos.v1.recorder.head',
  recorderVerify: 'agentos.v1.recorder.verify',
  recorderHealth: 'agentos.v1.recorder.health',
  /** Published (no reply) after every commit: `{position}`. A hint for followers, not a guarantee. */
  eventsAppended: 'agentos.v1.events.appended',
  /**
   * Internal: after each commit the recorder names the streams that moved (FeedHint, core NATS, at
   * most once). Caches reload what they hold from the log; the feed itself is never the truth.
   */
  feed: (partition: number) => `agentos.internal.feed.${partition}`,
  feedAll: 'agentos.internal.feed.*',

  /** Internal: the kernel asks the VFS service to execute a file syscall at a stream version. */
  vfsExecute: 'agentos.internal.vfs.execute',
  /** Internal: an agent's VFS state (digest and listing) at a stream version. */
  vfsState: 'agentos.internal.vfs.state',
} as const;

/**
 * Subjects are declared with the protocol's first token (`agentos.v1....`). A deployment may use
 * another first token (AGENTOS_SUBJECT_PREFIX) so that several installations or test runs share
 * one NATS without seeing each other; this maps a declared subject onto the deployment's.
 */
export function withSubjectPrefix(subject: string, prefix: string): string {
  if (prefix === 'agentos' || !subject.startsWith('agentos.')) return subject;
  return `${prefix}.${subject.slice('agentos.'.length)}`;
}
