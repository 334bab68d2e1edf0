import type { SignalName } from '../protocol/signals.js';
import type { SyscallName } from '../protocol/syscalls.js';

/**
 * Event schemas. A shipped event's meaning never changes: a new meaning gets a new schema
 * version (or a new type) and the reducers keep folding the old ones.
 */
export const EventTypes = {
  AgentCreated: 'AgentCreated',
  AgentDestroyed: 'AgentDestroyed',
  SyscallRecorded: 'SyscallRecorded',
  SignalDelivered: 'SignalDelivered',
  ToolRegistered: 'ToolRegistered',
  PolicyApplied: 'PolicyApplied',
  PolicyActivated: 'PolicyActivated',
  CredentialIssued: 'CredentialIssued',
  CredentialRevoked: 'CredentialRevoked',
  SignalSent: 'SignalSent',
  PolicyFence: 'PolicyFence',
} as const;

export type LifecycleState = 'running' | 'stopped' | 'terminated';

/** AgentCreated v1: first event of every agent stream. */
export interface AgentCreatedV1 {
  agentId: string;
  role: string;
  at: string;
}

/** AgentDestroyed v1: an operator ended the agent (ring 0). */
export interface AgentDestroyedV1 {
  agentId: string;
  reason: string;
  at: string;
}

/** The policy decision recorded with every syscall (invariant 7: recorded, never re-decided). */
export interface DecisionV1 {
  allowed: boolean;
  /** permissive: no policy applied yet; fail_closed: denied because none is; policy: a policy version decided; skipped: never reached the policy stage. */
  mode: 'permissive' | 'fail_closed' | 'policy' | 'skipped';
  action: string | null;
  policyVersion: number | null;
  rule: string | null;
  reason: string | null;
  /** allowed only because the matching rule audits instead of enforcing (shadow mode). */
  shadow: boolean;
  /** kill | deny | audit, when not allowed or shadowed. */
  onViolation: 'kill' | 'deny' | 'audit' | null;
}

export interface SyscallResultV1 {
  success: boolean;
  returnValue: unknown;
  errorCode: number | null;
  errorMessage: string | null;
}

/** State changes a syscall caused in the VFS, recorded so that replay never re-derives them. */
export type VfsEffectV1 =
  | { op: 'write'; path: string; mode: 'w' | 'a'; encoding: 'utf8' | 'base64'; bytes: number }
  | { op: 'open'; path: string; mode: 'r' | 'w' | 'a'; fd: number }
  | { op: 'close'; fd: number };

/** Other state changes of a syscall (signals sent to self are separate SignalDelivered events). */
export type KernelEffectV1 =
  | { op: 'exit'; code: number }
  | { op: 'sigaction'; signal: SignalName; disposition: Disposition }
  | { op: 'sigprocmask'; blocked: SignalName[] };

export type Disposition = 'default' | 'ignore' | 'handle';

/** SyscallRecorded v1: one per syscall of a registered agent, allowed, denied or failed. */
export interface SyscallRecordedV1 {
  requestId: string;
  /** As requested; may be an unknown name (then errorCode is -5). */
  syscall: SyscallName | string;
  args: Record<string, unknown>;
  decision: DecisionV1;
  result: SyscallResultV1;
  vfs?: VfsEffectV1;
  kernel?: KernelEffectV1;
  /** Lifecycle after this syscall (and the signals it caused to the caller), when it changed. */
  transition?: LifecycleState;
  /** Kernel time of the decision: the only clock replay ever uses. */
  at: string;
  executionTimeMs: number;
}

/**
 * What a read returned, instead of the content itself: the content at any position follows from
 * the fold of the agent's stream, so the log keeps its digest (a retried read is answered by
 * reading the fold at the event's version and checking it against this).
 */
export interface ReturnedContentV2 {
  kind: 'content';
  /** Size of the file's content in bytes. */
  bytes: number;
  /** Lower-case hex SHA-256 of the file's content (not of its encoding). */
  sha256: string;
  encoding: 'utf8' | 'base64';
}

/**
 * SyscallRecorded v2: as v1, except that a successful SYS_READ records `returned` (the
 * content's size and digest) and `result.returnValue` null, instead of the content: a big read
 * no longer bloats the log. Everything else keeps v1's meaning.
 */
export interface SyscallRecordedV2 extends SyscallRecordedV1 {
  returned?: ReturnedContentV2;
}

export type SignalOutcome =
  | 'default' // default action applied (see transition)
  | 'blocked' // queued until unblocked
  | 'ignored' // disposition ignore
  | 'handled' // left to the agent's own handler (published only)
  | 'escalated' // SIGPOLICY / SIGTRUST: followed by SIGKILL
  | 'unblocked'; // a queued signal delivered on SYS_SIGPROCMASK (then acted on as `default`/`handled`/...)

/** SignalDelivered v1: on the target agent's stream. */
export interface SignalDeliveredV1 {
  signal: SignalName;
  number: number;
  source: string;
  reason: string;
  outcome: SignalOutcome;
  /** For a queued signal delivered later: true (it leaves the pending queue). */
  fromPending?: boolean;
  transition?: LifecycleState;
  at: string;
}

/** ToolRegistered v1 on the `$tools` stream. */
export interface ToolRegisteredV1 {
  name: string;
  description: string | null;
  at: string;
}

/**
 * PolicyApplied v1 on `$policy`: a new policy version (content never seen before) becomes the
 * active one. `version` counts distinct contents 1, 2, 3...; `hash` is the content hash.
 */
export interface PolicyAppliedV1 {
  version: number;
  hash: string;
  name: string;
  /** The document as parsed (the normalised form is derived from it). */
  document: Record<string, unknown>;
  /** The text as submitted, for review. */
  source: string;
  format: 'yaml' | 'json';
  appliedBy: string;
  reason: string;
  at: string;
}

/** PolicyActivated v1 on `$policy`: an earlier version becomes active again (rollback or re-apply). */
export interface PolicyActivatedV1 {
  version: number;
  hash: string;
  previousVersion: number | null;
  appliedBy: string;
  reason: string;
  at: string;
}

/**
 * CredentialIssued v1 on the agent's stream: NATS credentials (a user JWT signed by the
 * deployment's account) were minted for the agent. Only the public key is recorded; the secret
 * went to the operator who asked.
 */
export interface CredentialIssuedV1 {
  publicKey: string;
  /** When the credential stops working on its own (ISO), or null. */
  expiresAt: string | null;
  at: string;
}

/** CredentialRevoked v1 on the agent's stream: the servers refuse the key from now on. */
export interface CredentialRevokedV1 {
  publicKey: string;
  reason: string;
  at: string;
}

/**
 * SignalSent v1 on the sender's stream, beside its SyscallRecorded: a signal to an agent in
 * another partition (the outbox). The kernel's relay delivers it to the target's stream as
 * SignalDelivered events (idempotency key `signal:<this event's id>`, causationId this event),
 * decided against the target's state at delivery; exactly once, also after a crash. A signal to
 * an agent in the same partition is delivered in the syscall's own transaction and has no
 * SignalSent.
 */
export interface SignalSentV1 {
  target: string;
  signal: SignalName;
  source: string;
  reason: string;
  at: string;
}

/**
 * PolicyFence v1 on `$policy@<p>` (partitions other than 0): the `$policy` stream reached
 * version `activation`, whose active policy version is `activeVersion` (null: none yet, `hash`
 * its content hash). Decisions in partition p are made with the policy of the latest fence and
 * appended only while the fence is unchanged, so in p's order each decision follows the switch it
 * was made under. Written by the policy service after every `$policy` event.
 */
export interface PolicyFenceV1 {
  activation: number;
  activeVersion: number | null;
  hash: string | null;
  at: string;
}
