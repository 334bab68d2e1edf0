import { Controller, Inject, UseFilters } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import type pg from 'pg';
import { Subjects } from '#contracts';
import { PgEventReader, auditStats, eventPageJson, queryAuditRows, type AuditStats, type LogHead } from '#event-store';
import { RawJson } from '#messaging';
import { ApiErrorFilter, JsonBodyPipe, PG_POOL, protocolValidationPipe } from '#runtime';
import { AuditFilterDto, AuditQueryDto } from './audit-filter.dto.js';

/**
 * Compliance queries over NATS: `agentos.v1.audit.query` pages through matching events (by
 * agent, time, syscall, decision, rule, policy version); `agentos.v1.audit.stats` gives the
 * seed's statistics; `agentos.v1.audit.head` the chain's end point. Pages are built from the
 * stored text, cut to fit one NATS message; `next` says where to continue.
 */
@Controller()
@UseFilters(ApiErrorFilter)
export class AuditController {
  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly reader: PgEventReader,
  ) {}

  @MessagePattern(Subjects.auditQuery, { queue: 'recorder' })
  async query(@Payload(JsonBodyPipe, protocolValidationPipe()) q: AuditQueryDto): Promise<RawJson> {
    const { limit, ...filter } = q;
    const [page, head] = await Promise.all([queryAuditRows(this.pool, filter, limit ?? 1000), this.reader.head()]);
    return new RawJson(
      eventPageJson(page.rows, (count, last) => ({
        next: last && (count < page.rows.length || page.full) ? last.position : null,
        head,
      })),
    );
  }

  @MessagePattern(Subjects.auditStats, { queue: 'recorder' })
  stats(@Payload(JsonBodyPipe, protocolValidationPipe()) q: AuditFilterDto): Promise<AuditStats> {
    return auditStats(this.pool, q);
  }

  @MessagePattern(Subjects.auditHead, { queue: 'recorder' })
  head(): Promise<LogHead> {
    return this.reader.head();
  }
}
