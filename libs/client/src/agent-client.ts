import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { randomUUID } from 'node:crypto';
import {
  AGENT_ID_PATTERN,
  ErrorCode,
  Subjects,
  parseSignal,
  signalNumber,
  type SignalName,
  type SignalNotice,
  type SyscallName,
  type SyscallReply,
} from '#contracts';
import { DEFAULT_SUBJECT_PREFIX, openConnection, prefixed, type ConnectionOptions } from './nats-connection.js';
import { backoffDelayMs, sleep } from './retry-backoff.js';
import { syscallErrorFrom } from './syscall-errors.js';
import type {
  Encoding,
  FileStat,
  OpenMode,
  PolicyCheck,
  PolicyView,
  SignalDisposition,
  SignalMask,
  SignalRef,
} from './syscall-results.js';
import { isRetryableTransportError } from './transport-errors.js';

export interface AgentClientOptions extends ConnectionOptions {
  /** The agent's identity: the last token of its syscall subject (`^[A-Za-z0-9_-]{1,128}$`). */
  agentId: string;
  /** How long one attempt waits for the kernel's reply (default 10 s). */
  timeoutMs?: number;
  /** Attempts after the first, on -7 or when the kernel cannot be reached (default 3). */
  retries?: number;
  /** Delay before the first retry; doubles per retry, with jitter, capped at 5 s (default 100 ms). */
  backoffMs?: number;
}

/** Any of the protocol's syscall names, or another string (the kernel answers -5 for unknown ones). */
export type SyscallNameLike = SyscallName | (string & {});

/**
 * An agent's handle on the kernel. Every call is a request on `agentos.v1.syscall.<agentId>`.
 * Retries (on -7, and when the kernel cannot be reached) reuse the request id, so the kernel
 * answers a retry with the first reply and records nothing twice. The helpers return the
 * `returnValue` and throw a typed SyscallError otherwise; `syscall` returns the raw reply.
 */
export class AgentClient {
  private readonly syscallSubject: string;
  private readonly signalSubject: string;
  private readonly signalSubscriptions = new Set<Subscription>();

  private constructor(
    readonly agentId: string,
    private readonly nc: NatsConnection,
    private readonly ownsConnection: boolean,
    private readonly retry: { timeoutMs: number; retries: number; backoffMs: number },
    subjectPrefix: string,
  ) {
    this.syscallSubject = prefixed(Subjects.syscall(agentId), subjectPrefix);
    this.signalSubject = prefixed(Subjects.signal(agentId), subjectPrefix);
  }

  static async connect(o: AgentClientOptions): Promise<AgentClient> {
    if (typeof o.agentId !== 'string' || !AGENT_ID_PATTERN.test(o.agentId)) {
      throw new TypeError(`agentId must match ${AGENT_ID_PATTERN}: ${JSON.stringify(o.agentId)}`);
    }
    const retry = { timeoutMs: o.timeoutMs ?? 10_000, retries: o.retries ?? 3, backoffMs: o.backoffMs ?? 100 };
    if (!(retry.timeoutMs > 0)) throw new RangeError('timeoutMs must be positive');
    if (!Number.isInteger(retry.retries) || retry.retries < 0) throw new RangeError('retries must be an integer >= 0');
    if (!(retry.backoffMs >= 0)) throw new RangeError('backoffMs must be >= 0');
    const { nc, owned } = await openConnection({ inboxPrefix: `_INBOX.${o.agentId}`, ...o });
    return new AgentClient(o.agentId, nc, owned, retry, o.subjectPrefix ?? DEFAULT_SUBJECT_PREFIX);
  }

  /**
   * Any syscall, answered with the kernel's raw reply: a failed syscall does not throw. When the
   * kernel stays unavailable through every retry, the reply is a -7 (the kernel's own, or made
   * here when it could not be reached). Throws only for transport failures no retry can fix
   * (permission violation, closed connection).
   */
  async syscall(
    syscall: SyscallNameLike,
    args: Record<string, unknown> = {},
    opts: { id?: string } = {},
  ): Promise<SyscallReply> {
    const id = opts.id ?? randomUUID();
    const body = JSON.stringify({ id, syscall, args });
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) await sleep(backoffDelayMs(attempt, this.retry.backoffMs));
      const isLast = attempt >= this.retry.retries;
      try {
        const msg = await this.nc.request(this.syscallSubject, body, { timeout: this.retry.timeoutMs });
        const reply = msg.json<SyscallReply>();
        if (reply.errorCode !== ErrorCode.UNAVAILABLE || isLast) return reply;
      } catch (err) {
        if (!isRetryableTransportError(err)) throw err;
        if (isLast) return unreachableReply(id, attempt + 1, err);
      }
    }
  }

  /** SYS_READ: the file's content (base64 when asked). */
  read(path: string, o: { encoding?: Encoding } = {}): Promise<string> {
    return this.call('SYS_READ', { path, encoding: o.encoding });
  }

  /** SYS_WRITE: replaces (`w`, default) or appends to (`a`) the file; returns the bytes written. */
  write(path: string, data: string, o: { encoding?: Encoding; mode?: 'w' | 'a' } = {}): Promise<number> {
    return this.call('SYS_WRITE', { path, data, encoding: o.encoding, mode: o.mode });
  }

  /** SYS_OPEN: a file descriptor, unique per agent. */
  open(path: string, mode: OpenMode = 'r'): Promise<number> {
    return this.call('SYS_OPEN', { path, mode });
  }

  /** SYS_CLOSE: closes a file descriptor. */
  close(fd: number): Promise<void>;
  /** Without a descriptor: ends this client, like {@link disconnect}. */
  close(): Promise<void>;
  async close(...fd: [] | [number]): Promise<void> {
    if (fd.length === 0) return this.disconnect();
    await this.call('SYS_CLOSE', { fd: fd[0] });
  }

  /** SYS_STAT. */
  stat(path: string): Promise<FileStat> {
    return this.call('SYS_STAT', { path });
  }

  /** SYS_EXEC: runs a registered tool; returns the tool provider's result. */
  exec<T = unknown>(tool: string, args: Record<string, unknown> = {}, o: { inputPrompt?: string } = {}): Promise<T> {
    return this.call('SYS_EXEC', { tool, args, inputPrompt: o.inputPrompt });
  }

  /** SYS_SIGNAL: to this agent unless `target` is given; false when the signal changed nothing. */
  signal(signal: SignalRef, o: { target?: string; reason?: string } = {}): Promise<boolean> {
    return this.call('SYS_SIGNAL', { signal, target: o.target, reason: o.reason });
  }

  /** SYS_SIGACTION: sets how this agent takes a signal; returns the previous disposition. */
  sigaction(signal: SignalRef, action: SignalDisposition): Promise<SignalDisposition> {
    return this.call('SYS_SIGACTION', { signal, action });
  }

  /** SYS_SIGPROCMASK: blocked signals wait until unblocked; returns the mask and what unblocking delivered. */
  sigprocmask(how: 'block' | 'unblock' | 'setmask', signals: SignalRef[]): Promise<SignalMask> {
    return this.call('SYS_SIGPROCMASK', { how, signals });
  }

  /** SYS_CHECKPOLICY: whether `action` would be allowed now (asking is never itself a violation). */
  checkPolicy(action: string, o: { target?: string; args?: Record<string, unknown> } = {}): Promise<PolicyCheck> {
    return this.call('SYS_CHECKPOLICY', { action, target: o.target, args: o.args });
  }

  /** SYS_GETPOLICY: the rules that apply to this agent (for one action, if given). */
  getPolicy(action?: string): Promise<PolicyView> {
    return this.call('SYS_GETPOLICY', { action });
  }

  /** SYS_EXIT: ends the agent; every later syscall fails with AgentTerminatedError. */
  exit(code = 0): Promise<number> {
    return this.call('SYS_EXIT', { code });
  }

  /**
   * Signals delivered to this agent, as the kernel records them. Returns an unsubscribe function.
   * The handler may be async. A notice that is not JSON is skipped; a handler's error (or
   * rejection) is reported as a process warning rather than breaking the connection's dispatch.
   */
  onSignal(handler: (notice: SignalNotice) => void): () => void {
    const sub = this.nc.subscribe(this.signalSubject, {
      callback: (err, msg) => {
        if (err) return;
        let notice: SignalNotice;
        try {
          notice = msg.json<SignalNotice>();
        } catch {
          return;
        }
        // only what the kernel publishes: anything else on this subject is not a signal
        if (!isSignalNotice(notice)) return;
        void Promise.resolve()
          .then(() => handler(notice))
          .catch((e: unknown) => process.emitWarning(`onSignal handler failed: ${String(e)}`, 'AgentClientWarning'));
      },
    });
    this.signalSubscriptions.add(sub);
    return () => {
      this.signalSubscriptions.delete(sub);
      if (!sub.isClosed()) sub.unsubscribe();
    };
  }

  /** Resolves once the server has seen everything sent so far (signal subscriptions included). */
  flush(): Promise<void> {
    return this.nc.flush();
  }

  /** Stops the signal listeners and, if this client opened the connection, drains and closes it. */
  async disconnect(): Promise<void> {
    for (const sub of this.signalSubscriptions) if (!sub.isClosed()) sub.unsubscribe();
    this.signalSubscriptions.clear();
    if (this.ownsConnection && !this.nc.isClosed() && !this.nc.isDraining()) await this.nc.drain();
  }

  private async call<T>(syscall: SyscallName, args: Record<string, unknown>): Promise<T> {
    const reply = await this.syscall(syscall, args);
    if (reply.success) return reply.returnValue as T;
    throw syscallErrorFrom(reply, syscall);
  }
}

/**
 * The -7 reply for a kernel that never answered in time. A late reply may still mean the syscall
 * was recorded, so "unavailable" is what the caller may assume, and a retry with the same id is safe.
 */
function unreachableReply(id: string, attempts: number, err: unknown): SyscallReply {
  const why = err instanceof Error ? err.message : String(err);
  return {
    id,
    success: false,
    returnValue: null,
    errorCode: ErrorCode.UNAVAILABLE,
    errorMessage: `Kernel unreachable after ${attempts} attempt(s): ${why}`,
    executionTimeMs: 0,
  };
}

/** The shape the kernel publishes on an agent's signal subject. */
function isSignalNotice(x: unknown): x is SignalNotice {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return false;
  const n = x as Record<string, unknown>;
  return (
    typeof n.signal === 'string' &&
    parseSignal(n.signal) === n.signal &&
    n.number === signalNumber(n.signal as SignalName) &&
    typeof n.position === 'string' &&
    typeof n.state === 'string'
  );
}
