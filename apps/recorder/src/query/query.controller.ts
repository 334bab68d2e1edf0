import { Controller, Inject, UseFilters } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import type pg from 'pg';
import { Subjects, type RecorderReadReply } from '#contracts';
import { PgEventReader, verifyChain, type LogHead, type VerifyReport } from '#event-store';
import { Readiness } from '#observability';
import { ApiErrorFilter, JsonBodyPipe, PG_POOL, protocolValidationPipe } from '#runtime';
import { ReadAllDto, ReadStreamDto, VerifyDto } from './read-requests.dto.js';

/** Read side of the recorder over NATS: by stream, by global position range, head, verify, health. */
@Controller()
@UseFilters(ApiErrorFilter)
export class QueryController {
  constructor(
    private readonly reader: PgEventReader,
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    @Inject(Readiness) private readonly readiness: Readiness,
  ) {}

  @MessagePattern(Subjects.recorderReadStream, { queue: 'recorder' })
  async readStream(@Payload(JsonBodyPipe, protocolValidationPipe()) q: ReadStreamDto): Promise<RecorderReadReply> {
    const [events, head] = await Promise.all([this.reader.readStream(q.streamId, q), this.reader.head()]);
    return { events: fitReply(events), head };
  }

  @MessagePattern(Subjects.recorderReadAll, { queue: 'recorder' })
  async readAll(@Payload(JsonBodyPipe, protocolValidationPipe()) q: ReadAllDto): Promise<RecorderReadReply> {
    const [events, head] = await Promise.all([this.reader.readAll(q), this.reader.head()]);
    return { events: fitReply(events), head };
  }

  @MessagePattern(Subjects.recorderHead, { queue: 'recorder' })
  head(): Promise<LogHead> {
    return this.reader.head();
  }

  @MessagePattern(Subjects.recorderVerify, { queue: 'recorder' })
  verify(@Payload(JsonBodyPipe, protocolValidationPipe()) q: VerifyDto): Promise<VerifyReport> {
    return verifyChain(this.pool, { from: q.from, to: q.to });
  }

  @MessagePattern(Subjects.recorderHealth)
  async health(): Promise<{ status: string; checks: Record<string, string> }> {
    const r = await this.readiness.evaluate();
    return { status: r.ready ? 'ready' : 'not ready', checks: r.checks };
  }
}

/** Keeps a reply under NATS's max payload: a prefix of the events; callers page on. */
function fitReply<T extends { data: unknown }>(events: T[], maxBytes = 768 * 1024): T[] {
  let bytes = 0;
  for (let i = 0; i < events.length; i++) {
    bytes += JSON.stringify(events[i]).length;
    if (bytes > maxBytes && i > 0) return events.slice(0, i);
  }
  return events;
}
