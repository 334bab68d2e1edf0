import { Logger } from '@nestjs/common';
import { Server, type CustomTransportStrategy, type MessageHandler } from '@nestjs/microservices';
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import { isObservable, lastValueFrom } from 'rxjs';
import { NatsRequestContext } from './nats-request.context.js';
import { withSubjectPrefix } from './subjects.js';
import { CORRELATION_HEADER, withCorrelation } from './correlation.js';
import { RawJson } from './raw-json.js';

/** Where NATS clients receive replies unless configured otherwise. */
export const DEFAULT_REPLY_PREFIXES = ['_INBOX.'];

export interface RawNatsTransportOptions {
  /** Subject prefix of this deployment (see withSubjectPrefix). */
  subjectPrefix: string;
  /** Queue group for handlers that do not name one: replicas of a service share the work. */
  defaultQueue?: string;
  /** How long close() waits for requests in flight before giving up on them. */
  drainTimeoutMs?: number;
  /** Reply for a handler failure that no exception filter turned into a reply (by the request's subject). */
  fallbackReply?: (err: unknown, subject: string) => unknown;
  /** Called after each answered request (request logging). */
  onHandled?: (r: { subject: string; correlationId?: string; ms: number }) => void;
  /**
   * Reply subjects a request may name (prefixes; default `_INBOX.`). A service may publish where
   * its clients may not, so a request asking for its reply anywhere else (another agent's signal
   * subject, say) is dropped unanswered and unprocessed: a reply is never a way to publish.
   */
  replyPrefixes?: string[];
  /** Called for each request dropped for its reply subject. */
  onRefusedReply?: (r: { subject: string; reply: string }) => void;
  /**
   * The subjects to subscribe for a declared pattern instead of the pattern itself (undefined:
   * the pattern): e.g. a recorder that owns some partitions listens to those partitions' subjects.
   */
  subjectsFor?: (pattern: string) => string[] | undefined;
}

/**
 * A NestJS transport strategy for the public wire protocol: plain JSON bodies in and out, no
 * NestJS packet envelope, so any NATS client in any language can call `request(subject, json)`.
 * Handlers are the usual `@MessagePattern(subject, { queue })` methods; bodies arrive as raw bytes
 * (a pipe parses them) and the handler's value is the reply. Every request gets a reply: a failure
 * no exception filter handled becomes `fallbackReply`. close() stops new deliveries and waits for
 * the requests in flight (graceful drain).
 */
export class RawNatsTransport extends Server implements CustomTransportStrategy {
  protected override readonly logger = new Logger('RawNatsTransport');
  private readonly subscriptions: Subscription[] = [];
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly nc: NatsConnection,
    private readonly options: RawNatsTransportOptions,
  ) {
    super();
  }

  listen(callback: (err?: unknown) => void): void {
    try {
      for (const [pattern, handler] of this.messageHandlers) {
        const extras = (handler.extras ?? {}) as { queue?: string };
        const queue = extras.queue ?? this.options.defaultQueue;
        for (const declared of this.options.subjectsFor?.(pattern) ?? [pattern]) {
          const subject = withSubjectPrefix(declared, this.options.subjectPrefix);
          const sub = this.nc.subscribe(subject, {
            queue,
            callback: (err, msg) => {
              if (err) {
                this.logger.error(`subscription ${subject} failed: ${err.message}`);
                return;
              }
              void this.handle(handler, msg);
            },
          });
          this.subscriptions.push(sub);
        }
      }
      callback();
    } catch (err) {
      callback(err);
    }
  }

  /**
   * Replies ready in the same turn of the event loop leave together: nats.js writes to the socket
   * once per microtask flush, so replies finishing one by one (a batch commit resolves dozens)
   * would each cost a write system call. Collected and sent from one setImmediate callback, they
   * cost one; the delay is at most the rest of the turn.
   */
  private respond(msg: Msg, text: string): void {
    this.replies.push([msg, text]);
    if (this.replies.length === 1) setImmediate(this.sendReplies);
  }

  private readonly replies: [Msg, string][] = [];

  private readonly sendReplies = (): void => {
    const batch = this.replies.splice(0);
    for (const [msg, text] of batch) {
      try {
        msg.respond(text);
      } catch (err) {
        // a reply too large for the server, or a closed connection: the caller times out or retries
        this.logger.warn(`reply on ${msg.subject} not sent: ${(err as Error).message}`);
        const fallback = this.options.fallbackReply?.(err, msg.subject) ?? {
          error: { code: -4, message: 'the reply could not be sent' },
        };
        try {
          msg.respond(JSON.stringify(fallback));
        } catch {
          // connection closed: nothing left to tell the caller
        }
      }
    }
  };

  private replyAllowed(reply: string): boolean {
    const prefixes = this.options.replyPrefixes ?? DEFAULT_REPLY_PREFIXES;
    for (const p of prefixes) if (reply.startsWith(p)) return true;
    return false;
  }

  /** Requests received and not yet answered. */
  get pending(): number {
    return this.inFlight;
  }

  private handle(handler: MessageHandler, msg: Msg): Promise<void> {
    if (msg.reply && !this.replyAllowed(msg.reply)) {
      this.options.onRefusedReply?.({ subject: msg.subject, reply: msg.reply });
      return Promise.resolve();
    }
    const correlationId = msg.headers?.get(CORRELATION_HEADER);
    return correlationId
      ? withCorrelation(correlationId, () => this.answer(handler, msg, correlationId))
      : this.answer(handler, msg);
  }

  private async answer(handler: MessageHandler, msg: Msg, correlationId?: string): Promise<void> {
    const receivedAt = performance.now();
    this.inFlight += 1;
    try {
      const ctx = new NatsRequestContext([msg.subject, msg.headers, receivedAt]);
      let result: unknown = await handler(msg.data, ctx);
      if (isObservable(result)) result = await lastValueFrom(result, { defaultValue: null });
      if (msg.reply) this.respond(msg, result instanceof RawJson ? result.text : JSON.stringify(result ?? null));
      this.options.onHandled?.({ subject: msg.subject, correlationId, ms: performance.now() - receivedAt });
    } catch (err) {
      this.logger.error(`handler for ${msg.subject} failed: ${(err as Error)?.stack ?? String(err)}`);
      if (msg.reply) {
        const message = String((err as Error)?.message ?? 'internal error').slice(0, 1000);
        const fallback = this.options.fallbackReply?.(err, msg.subject) ?? { error: { code: -4, message } };
        try {
          msg.respond(JSON.stringify(fallback));
        } catch {
          // connection closed: nothing left to tell the caller
        }
      }
    } finally {
      this.inFlight -= 1;
      if (this.inFlight === 0) {
        this.sendReplies(); // draining: what is answered leaves now
        for (const w of this.idleWaiters.splice(0)) w();
      }
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.subscriptions.splice(0).map((s) => s.drain().catch(() => undefined)));
    this.sendReplies();
    if (this.inFlight > 0) {
      await Promise.race([
        new Promise<void>((r) => this.idleWaiters.push(r)),
        new Promise<void>((r) => setTimeout(r, this.options.drainTimeoutMs ?? 10_000).unref()),
      ]);
    }
  }

  on(): never {
    throw new Error('RawNatsTransport has no events to listen to');
  }

  unwrap<T>(): T {
    return this.nc as T;
  }
}
