import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { ErrorCode, Subjects, isApiError, type RecorderAppendReply } from '#contracts';
import type { AppendOutcome, AppendRequest, CommittedEvent } from '#event-store';
import { NatsRpcClient, ServiceUnavailableError } from '#messaging';
import { PG_POOL } from './postgres.module.js';

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

/**
 * Appends through the recorder (the only writer). When no reply comes in time the outcome is
 * settled for certain before answering anyone: the request carried a deadline after which the
 * recorder never starts committing it; we wait for that deadline, wait for any transaction still
 * holding the log head (FOR SHARE), and look for our first event. So a caller is told
 * "unavailable" only when nothing was recorded (invariant 1).
 */
@Injectable()
export class RecorderClient {
  constructor(
    private readonly rpc: NatsRpcClient,
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    @Inject(RECORDER_CLIENT_SETTINGS) private readonly settings: RecorderClientSettings,
  ) {}

  async append(request: AppendRequest): Promise<RecorderOutcome> {
    const deadline = Date.now() + Math.max(100, this.settings.timeoutMs - 1500);
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
      return this.settle(request, deadline, err as Error);
    }
    if (isApiError(reply)) {
      if (reply.error.outcomeUnknown) return this.settle(request, deadline, new Error(reply.error.message));
      // only -7 means "nothing recorded, retry may help"; anything else is a permanent refusal
      if (reply.error.code === ErrorCode.UNAVAILABLE) return { status: 'unavailable', message: reply.error.message };
      return { status: 'rejected', reason: reply.error.message };
    }
    return reply;
  }

  private async settle(request: AppendRequest, deadline: number, cause: Error): Promise<RecorderOutcome> {
    const wait = deadline + 250 - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const ids = request.appends.flatMap((a) => a.events.map((e) => e.eventId.toLowerCase()));
    const giveUpAt = Date.now() + this.settings.settleTimeoutMs;
    for (;;) {
      try {
        const found = await this.lookUp(ids);
        if (found.length === 0) {
          return { status: 'unavailable', message: `recorder did not answer (${cause.message}); nothing was recorded` };
        }
        // Reported as a duplicate so the caller reads the recorded events back instead of
        // trusting what it meant to write.
        return { status: 'committed', duplicate: true, events: found, recordedAt: new Date().toISOString() };
      } catch (err) {
        // The log cannot be read (Postgres down): keep the caller waiting rather than risk
        // answering "unavailable" for something that was recorded.
        if (Date.now() > giveUpAt) {
          return {
            status: 'unavailable',
            message: `outcome unknown: the recorder did not answer and the log cannot be read (${(err as Error).message})`,
          };
        }
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  /** Our events, after any transaction still holding the log head has finished. */
  private async lookUp(ids: string[]): Promise<CommittedEvent[]> {
    const client = await this.pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      await client.query('SELECT 1 FROM log_head FOR SHARE');
      const r = await client.query(
        'SELECT event_id::text AS event_id, stream_id, stream_version, position FROM events WHERE event_id = ANY($1::uuid[])',
        [ids],
      );
      await client.query('COMMIT');
      const byId = new Map<string, CommittedEvent>(
        r.rows.map((row) => [
          row.event_id as string,
          { eventId: row.event_id, streamId: row.stream_id, streamVersion: row.stream_version, position: row.position },
        ]),
      );
      return ids.map((id) => byId.get(id)).filter((e): e is CommittedEvent => Boolean(e));
    } catch (err) {
      broken = true;
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release(broken);
    }
  }
}
