import { Controller, Inject, UseFilters } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import type pg from 'pg';
import { Subjects } from '#contracts';
import { PgEventReader, eventPageJson, verifyChain, type LogHead, type VerifyReport } from '#event-store';
import { RawJson } from '#messaging';
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
  async readStream(@Payload(JsonBodyPipe, protocolValidationPipe()) q: ReadStreamDto): Promise<RawJson> {
    const [rows, head] = await Promise.all([this.reader.readStreamRows(q.streamId, q), this.reader.head()]);
    return new RawJson(eventPageJson(rows, () => ({ head })));
  }

  @MessagePattern(Subjects.recorderReadAll, { queue: 'recorder' })
  async readAll(@Payload(JsonBodyPipe, protocolValidationPipe()) q: ReadAllDto): Promise<RawJson> {
    const [rows, head] = await Promise.all([this.reader.readAllRows(q), this.reader.head()]);
    return new RawJson(eventPageJson(rows, () => ({ head })));
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
