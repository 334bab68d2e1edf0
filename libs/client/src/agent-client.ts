import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { randomUUID } from 'node:crypto';
import {
  AGENT_ID_PATTERN,
  ErrorCode,
  Subjects,
  type SignalNotice,
  type SyscallName,
  type SyscallReply,
} from '#contracts';
import { isTransient, openConnection, prefixed, type ConnectionOptions } from './nats-connection.js';
import { syscallErrorFrom } from './syscall-errors.js';

export interface AgentClientOptions extends ConnectionOptions {
  agentId: string;
  /** Per attempt (default 10 s). */
  timeoutMs?: number;
  /** Retries after the first attempt on -7 or transport failures (default 3). */
  retries?: number;
  /** First backoff delay; doubles per retry, with jitter (default 100 ms). */
  backoffMs?: number;
}

export interface FileStat {
  path: string;
  type: 'file' | 'directory';
  size: number;
  contentHash: string | null;
  modified: string | null;
}

export interface PolicyCheck {
  allowed: boolean;
  reason?: string;
  action: string;
  agentId: string;
  policyVersion?: number | null;
  rule?: string;
}

/**
 * An agent's handle on the kernel. Every call is a syscall on `agentos.v1.syscall.<agentId>`;
 * retries (on -7 and when the kernel cannot be reached) reuse the request id, so the kernel
 * answers a retry with the first reply and records nothing twice. Helpers return the
 * `returnValue` and throw a typed {@link SyscallError} otherwise.
 */
export class AgentClient {
  private readonly subject: string;
  private readonly signalSubject: string;

  private constructor(
    readonly agentId: string,
    private readonly nc: NatsConnection,
    private readonly owned: boolean,
    private readonly o: Required<Pick<AgentClientOptions, 'timeoutMs' | 'retries' | 'backoffMs'>>,
    prefix: string,
  ) {
    this.subject = prefixed(Subjects.syscall(agentId), prefix);
    this.signalSubject = prefixed(Subjects.signal(agentId), prefix);
  }

  static async connect(o: AgentClientOptions): Promise<AgentClient> {
    if (!AGENT_ID_PATTERN.test(o.agentId)) throw new TypeError(`agentId must match ${AGENT_ID_PATTERN}`);
    const { nc, owned } = await openConnection({ inboxPrefix: `_INBOX.${o.agentId}`, ...o });
    return new AgentClient(
      o.agentId,
      nc,
      owned,
      { timeoutMs: o.timeoutMs ?? 10_000, retries: o.retries ?? 3, backoffMs: o.backoffMs ?? 100 },
      o.subjectPrefix ?? 'agentos',
    );
  }

  /** The raw reply of any syscall (never throws for a failed syscall, only when the kernel stays unreachable). */
  async syscall(
    syscall: SyscallName | string,
    args: Record<string, unknown> = {},
    opts: { id?: string } = {},
  ): Promise<SyscallReply> {
    const id = opts.id ?? randomUUID();
    const body = JSON.stringify({ id, syscall, args });
    let lastError = 'no attempt made';
    for (let attempt = 0; attempt <= this.o.retries; attempt++) {
      if (attempt > 0) await this.backoff(attempt);
      try {
        const reply = (await this.nc.request(this.subject, body, { timeout: this.o.timeoutMs })).json<SyscallReply>();
        if (reply.errorCode !== ErrorCode.UNAVAILABLE) return reply;
        lastError = reply.errorMessage ?? 'kernel unavailable';
      } catch (err) {
        if (!isTransient(err)) throw err;
        lastError = (err as Error).message;
      }
    }
    return {
      id,
      success: false,
      returnValue: null,
      errorCode: ErrorCode.UNAVAILABLE,
      errorMessage: lastError,
      executionTimeMs: 0,
    };
  }

  async read(path: string, o: { encoding?: 'utf8' | 'base64' } = {}): Promise<string> {
    return (await this.call('SYS_READ', { path, ...o })) as string;
  }

  async write(path: string, data: string, o: { encoding?: 'utf8' | 'base64'; mode?: 'w' | 'a' } = {}): Promise<number> {
    return (await this.call('SYS_WRITE', { path, data, ...o })) as number;
  }

  async open(path: string, mode: 'r' | 'w' | 'a' = 'r'): Promise<number> {
    return (await this.call('SYS_OPEN', { path, mode })) as number;
  }

  async close(fd: number): Promise<void> {
    await this.call('SYS_CLOSE', { fd });
  }

  async stat(path: string): Promise<FileStat> {
    return (await this.call('SYS_STAT', { path })) as FileStat;
  }

  async exec<T = unknown>(
    tool: string,
    args: Record<string, unknown> = {},
    o: { inputPrompt?: string } = {},
  ): Promise<T> {
    return (await this.call('SYS_EXEC', { tool, args, ...o })) as T;
  }

  /** Sends a signal (to itself unless `target` is given); false when the target was already terminated. */
  async signal(signal: string | number, o: { target?: string; reason?: string } = {}): Promise<boolean> {
    return (await this.call('SYS_SIGNAL', { signal, ...o })) as boolean;
  }

  /** Sets a disposition; returns the previous one. */
  async sigaction(signal: string | number, action: 'default' | 'ignore' | 'handle'): Promise<string> {
    return (await this.call('SYS_SIGACTION', { signal, action })) as string;
  }

  async sigprocmask(
    how: 'block' | 'unblock' | 'setmask',
    signals: (string | number)[],
  ): Promise<{ blocked: string[]; delivered: string[] }> {
    return (await this.call('SYS_SIGPROCMASK', { how, signals })) as { blocked: string[]; delivered: string[] };
  }

  async checkPolicy(action: string, o: { target?: string; args?: Record<string, unknown> } = {}): Promise<PolicyCheck> {
    return (await this.call('SYS_CHECKPOLICY', { action, ...o })) as PolicyCheck;
  }

  async getPolicy(action?: string): Promise<{ policyVersion: number | null; mode: string; rules: unknown[] }> {
    return (await this.call('SYS_GETPOLICY', action ? { action } : {})) as {
      policyVersion: number | null;
      mode: string;
      rules: unknown[];
    };
  }

  /** Ends the agent; later syscalls fail with AgentTerminatedError. */
  async exit(code = 0): Promise<number> {
    return (await this.call('SYS_EXIT', { code })) as number;
  }

  /** Signals delivered to this agent, as they are recorded. Returns an unsubscribe function. */
  onSignal(handler: (notice: SignalNotice) => void): () => void {
    const sub: Subscription = this.nc.subscribe(this.signalSubject, {
      callback: (err, msg) => {
        if (err) return;
        try {
          handler(msg.json<SignalNotice>());
        } catch {
          // a handler's failure is the agent's own business
        }
      },
    });
    return () => sub.unsubscribe();
  }

  /** Closes the NATS connection if this client opened it (`close(fd)` closes a file). */
  async disconnect(): Promise<void> {
    if (this.owned) await this.nc.drain();
  }

  private async call(syscall: SyscallName, args: Record<string, unknown>): Promise<unknown> {
    const reply = await this.syscall(syscall, args);
    if (reply.success) return reply.returnValue;
    throw syscallErrorFrom(reply, syscall);
  }

  private backoff(attempt: number): Promise<void> {
    const base = this.o.backoffMs * 2 ** (attempt - 1);
    return new Promise((r) => setTimeout(r, base / 2 + Math.random() * base));
  }
}
