import { Inject, Injectable } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import { ENVELOPE_BYTES, ErrorCode, Subjects, isApiError, type RecorderAppendReply } from '#contracts';
import { LogQueries, PartitionedLog, type AppendOutcome, type AppendRequest, type CommittedEvent } from '#event-store';
import { NatsRpcClient, ServiceUnavailableError } from '#messaging';
import { NATS_CONNECTION } from './runtime.tokens.js';

export type RecorderOutcome = AppendOutcome | { status: 'unavailable'; message: string };

export interface RecorderClientSettings {
  /** How long to wait for the recorder's reply. */
  timeoutMs: number;
  /** How long to keep trying to learn an uncertain outcome while Postgres is unreachable. */
  settleTimeoutMs: number;
}
export const RECORDER_CLIENT_SETTINGS = Symbol('RECORDER_CLIENT_SETTINGS');

export function recorderClientSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): RecorderClientSettings {
  return {
    timeoutMs: Number(env.AGENTOS_RECORDER_TIMEOUT_MS || 10_000),
    settleTimeoutMs: Number(env.AGENTOS_SETTLE_TIMEOUT_MS || 60_000),
  };
}

interface Queued {
  request: AppendRequest;
  json: string;
  resolve: (o: RecorderOutcome) => void;
}

type BatchReply = { outcomes: (RecorderAppendReply | undefined)[] };

/** Requests waiting for the next message to one partition's writer. */
interface Outbound {
  queue: Queued[];
  bytes: number;
}

/**
 * Appends through the recorder (the only writer). Requests made in the same turn of the event
 * loop (many agents' syscalls at once) travel as one message per partition,
 * `agentos.internal.recorder.append.<p>`, and the recorder commits them in one group: one NATS
 * round trip for many appends instead of one each. Each request keeps its own outcome; a request
 * belongs to the partition of its first stream (the recorder refuses one that spans partitions).
 *
 * When no reply comes in time the outcome is settled for certain before anyone is answered: the
 * message carried a deadline after which the recorder never starts committing it; we wait for that
 * deadline, wait for any transaction still holding the log head (FOR SHARE), and look for our
 * events. So a caller is told "unavailable" only when nothing was recorded (invariant 1).
 */
@Injectable()
export class RecorderClient {
  private readonly outbound = new Map<number, Outbound>();
  private scheduled = false;
  private readonly maxMessageBytes: number;

  constructor(
    private readonly rpc: NatsRpcClient,
    private readonly log: PartitionedLog,
    private readonly queries: LogQueries,
    @Inject(RECORDER_CLIENT_SETTINGS) private readonly settings: RecorderClientSettings,
    @Inject(NATS_CONNECTION) nc: NatsConnection,
  ) {
    this.maxMessageBytes = (nc.info?.max_payload ?? 1024 * 1024) - ENVELOPE_BYTES;
  }

  append(request: AppendRequest): Promise<RecorderOutcome> {
    const json = JSON.stringify(request);
    const partition = this.log.partitionOf(request.appends[0]?.streamId ?? '');
    return new Promise((resolve) => {
      let out = this.outbound.get(partition);
      if (!out) this.outbound.set(partition, (out = { queue: [], bytes: 0 }));
      if (out.bytes + json.length > this.maxMessageBytes) this.flushPartition(partition, out);
      out.queue.push({ request, json, resolve });
      out.bytes += json.length;
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Sends what is queued, one message per partition. */
  private flush(): void {
    this.scheduled = false;
    for (const [partition, out] of this.outbound) this.flushPartition(partition, out);
  }

  private flushPartition(partition: number, out: Outbound): void {
    const batch = out.queue;
    if (batch.length === 0) return;
    out.queue = [];
    out.bytes = 0;
    void this.send(partition, batch);
  }

  private async send(partition: number, batch: Queued[]): Promise<void> {
    const deadline = Date.now() + Math.max(100, this.settings.timeoutMs - 1500);
    const body = `{"deadline":${deadline},"requests":[${batch.map((q) => q.json).join(',')}]}`;
    let reply: BatchReply;
    try {
      reply = await this.rpc.requestText<BatchReply>(
        Subjects.recorderAppendBatch(partition),
        body,
        this.settings.timeoutMs,
      );
    } catch (err) {
      if (err instanceof ServiceUnavailableError && !err.maybeDelivered) {
        // nobody serves batches (a recorder of an older release during an upgrade): one by one
        await Promise.all(batch.map(async (q) => q.resolve(await this.appendOne(q.request, deadline))));
        return;
      }
      await this.settleAll(batch, deadline, err as Error);
      return;
    }
    const uncertain: Queued[] = [];
    batch.forEach((q, i) => {
      const r = reply?.outcomes?.[i];
      if (r === undefined) uncertain.push(q);
      else if (isApiError(r)) {
        if (r.error.outcomeUnknown) uncertain.push(q);
        // only -7 means "nothing recorded, retry may help"; anything else is a permanent refusal
        else if (r.error.code === ErrorCode.UNAVAILABLE) q.resolve({ status: 'unavailable', message: r.error.message });
        else q.resolve({ status: 'rejected', reason: r.error.message });
      } else q.resolve(r);
    });
    if (uncertain.length) await this.settleAll(uncertain, deadline, new Error('the recorder could not tell'));
  }

  /** One request on the public append subject. */
  private async appendOne(request: AppendRequest, deadline: number): Promise<RecorderOutcome> {
    let reply: RecorderAppendReply;
    try {
      reply = await this.rpc.request<RecorderAppendReply>(
        Subjects.recorderAppend,
        { ...request, deadline },
        this.settings.timeoutMs,
      );
    } catch (err) {
      if (err instanceof ServiceUnavailableError && !err.maybeDelivered) {
        return { status: 'unavailable', message: `recorder unavailable: ${err.message}` };
      }
      return new Promise((resolve) => void this.settleAll([{ request, json: '', resolve }], deadline, err as Error));
    }
    if (!isApiError(reply)) return reply;
    if (reply.error.outcomeUnknown) {
      return new Promise(
        (resolve) => void this.settleAll([{ request, json: '', resolve }], deadline, new Error(reply.error.message)),
      );
    }
    if (reply.error.code === ErrorCode.UNAVAILABLE) return { status: 'unavailable', message: reply.error.message };
    return { status: 'rejected', reason: reply.error.message };
  }

  /** After the deadline: what of each request was recorded. Never answers "unavailable" for something that was. */
  private async settleAll(batch: Queued[], deadline: number, cause: Error): Promise<void> {
    const wait = deadline + 250 - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const ids = batch.flatMap((q) => q.request.appends.flatMap((a) => a.events.map((e) => e.eventId.toLowerCase())));
    const giveUpAt = Date.now() + this.settings.settleTimeoutMs;
    for (;;) {
      try {
        const found = new Map((await this.lookUp(ids)).map((e) => [e.eventId, e]));
        for (const q of batch) {
          const mine = q.request.appends
            .flatMap((a) => a.events.map((e) => found.get(e.eventId.toLowerCase())))
            .filter((e): e is CommittedEvent => Boolean(e));
          // Reported as a duplicate so the caller reads the recorded events back instead of
          // trusting what it meant to write.
          q.resolve(
            mine.length === 0
              ? { status: 'unavailable', message: `recorder did not answer (${cause.message}); nothing was recorded` }
              : { status: 'committed', duplicate: true, events: mine, recordedAt: new Date().toISOString() },
          );
        }
        return;
      } catch (err) {
        // The log cannot be read (Postgres down): keep the callers waiting rather than risk
        // answering "unavailable" for something that was recorded.
        if (Date.now() > giveUpAt) {
          for (const q of batch) {
            q.resolve({
              status: 'unavailable',
              message: `outcome unknown: the recorder did not answer and the log cannot be read (${(err as Error).message})`,
            });
          }
          return;
        }
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  /** Our events, after any transaction still holding a partition's head has finished. */
  private lookUp(ids: string[]): Promise<CommittedEvent[]> {
    return this.queries.committedAfterWriters(ids);
  }
}
