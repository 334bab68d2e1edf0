/** A syscall request as agents send it on `agentos.v1.syscall.<agentId>`. */
export interface SyscallRequest {
  id?: string;
  syscall: string;
  args?: Record<string, unknown>;
}

/** The reply to every syscall request that reaches the kernel. */
export interface SyscallReply {
  id: string | null;
  success: boolean;
  returnValue: unknown;
  errorCode: number | null;
  errorMessage: string | null;
  executionTimeMs: number;
  /** Global log position of the event that recorded the syscall (decimal string), when one was committed. */
  position?: string;
}

/** Published on `agentos.v1.signal.<agentId>` for every delivered signal. */
export interface SignalNotice {
  signal: string;
  number: number;
  source: string;
  reason: string;
  position: string;
  /** What the delivery did: default action, queued while blocked, ignored, left to the agent's handler. */
  outcome: string;
  state: string;
}

/** Request id rules: optional, 1..128 characters. */
export const REQUEST_ID_MAX = 128;

/** agentId rules of the protocol. */
export const AGENT_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
/** Tool names are one subject token too. */
export const TOOL_NAME_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

/** Stream of one agent in the event log. */
export function agentStream(agentId: string): string {
  return `agent:${agentId}`;
}

export const TOOLS_STREAM = '$tools';
export const POLICY_STREAM = '$policy';
