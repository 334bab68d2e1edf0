/** What SYS_STAT returns. */
export interface FileStat {
  path: string;
  type: 'file' | 'directory';
  size: number;
  contentHash: string | null;
  modified: string | null;
}

/** What SYS_CHECKPOLICY returns: would `action` be allowed for this agent now? */
export interface PolicyCheck {
  allowed: boolean;
  /** Why not (or, in shadow mode, why it would not be). */
  reason?: string;
  /** The decision came from a policy in shadow mode: it is reported, not enforced. */
  shadow?: boolean;
  action: string;
  agentId: string;
  policyVersion: number | null;
  /** The rule that decided, when one did. */
  rule?: string;
}

/** What SYS_GETPOLICY returns: the rules that apply to this agent, with the policy version. */
export interface PolicyView {
  policyVersion: number | null;
  hash: string | null;
  name: string | null;
  /** `permissive` (no policy yet), `fail_closed` (no policy, deny all) or `policy`. */
  mode: 'permissive' | 'fail_closed' | 'policy';
  rules: unknown[];
}

/** What SYS_SIGPROCMASK returns: the mask now, and the pending signals that unblocking delivered. */
export interface SignalMask {
  blocked: string[];
  delivered: string[];
}

export type Encoding = 'utf8' | 'base64';
export type OpenMode = 'r' | 'w' | 'a';
export type SignalDisposition = 'default' | 'ignore' | 'handle';
export type SignalRef = string | number;
