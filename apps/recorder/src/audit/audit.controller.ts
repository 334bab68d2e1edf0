import { Controller, UseFilters } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { ErrorCode, ProtocolError, Subjects } from '#contracts';
import {
  AuditCursorError,
  PartitionedLog,
  PgEventReader,
  auditStats,
  eventPageJson,
  parseAuditCursor,
  queryAuditLog,
  queryAuditRows,
  type AuditStats,
  type LogHead,
} from '#event-store';
import { RawJson } from '#messaging';
import { ApiErrorFilter, JsonBodyPipe, protocolValidationPipe } from '#runtime';
import { AuditFilterDto, AuditQueryDto } from './audit-filter.dto.js';

/** `agentos.v1.audit.head`: the head as always with one partition; with several, partition 0's and every head. */
export type AuditHeadReply = LogHead | (LogHead & { partitions: number; heads: LogHead[] });

/**
 * Compliance queries over NATS: `agentos.v1.audit.query` pages through matching events (by
 * agent, time, syscall, decision, rule, policy version); `agentos.v1.audit.stats` gives the
 * seed's statistics; `agentos.v1.audit.head` the chain's end points. Pages are built from the
 * stored text, cut to fit one NATS message; `next` says where to continue.
 *
 * With one partition (or `partition` asked) a page is in position order and `next` a position.
 * With several, a page is the merged order of every partition (recorded time, partition,
 * position: see queryAuditLog) and `next` a cursor (`0:12,1:40,...`) to pass back as `after`.
 */
@Controller()
@UseFilters(ApiErrorFilter)
export class AuditController {
  constructor(
    private readonly log: PartitionedLog,
    private readonly reader: PgEventReader,
  ) {}

  @MessagePattern(Subjects.auditQuery, { queue: 'recorder' })
  async query(@Payload(JsonBodyPipe, protocolValidationPipe()) q: AuditQueryDto): Promise<RawJson> {
    const { limit, partition, after, toPosition, ...filter } = q;
    if (this.log.partitions === 1 || partition !== undefined) {
      const p = this.partition(partition);
      const [page, head] = await Promise.all([
        queryAuditRows(
          this.log.pool(p),
          {
            ...filter,
            after: this.onePosition(after, p, 0),
            toPosition: this.onePosition(toPosition, p, Number.MAX_SAFE_INTEGER),
          },
          limit ?? 1000,
        ),
        this.reader.head(p),
      ]);
      return new RawJson(
        eventPageJson(
          page.rows,
          (count, last) => ({
            next: last && (count < page.rows.length || page.full) ? last.position : null,
            head,
          }),
          p,
        ),
      );
    }
    const [page, heads] = await Promise.all([
      this.guard(() => queryAuditLog(this.log, { ...filter, after, toPosition }, limit ?? 1000)),
      this.reader.heads(),
    ]);
    const partitionOfRow = new Map(page.rows.map((r, i) => [r, page.partitions[i]]));
    return new RawJson(
      eventPageJson(
        page.rows,
        (count) => ({ next: page.next(count), head: heads[0], heads }),
        (r) => partitionOfRow.get(r) ?? 0,
      ),
    );
  }

  @MessagePattern(Subjects.auditStats, { queue: 'recorder' })
  stats(@Payload(JsonBodyPipe, protocolValidationPipe()) q: AuditFilterDto): Promise<AuditStats> {
    if (q.partition !== undefined) this.partition(q.partition);
    return this.guard(() => auditStats(this.log, q));
  }

  @MessagePattern(Subjects.auditHead, { queue: 'recorder' })
  async head(): Promise<AuditHeadReply> {
    if (this.log.partitions === 1) return this.reader.head();
    const heads = await this.reader.heads();
    return { ...heads[0], partitions: this.log.partitions, heads };
  }

  private partition(p: number | undefined): number {
    const partition = p ?? 0;
    if (partition >= this.log.partitions) {
      throw new ProtocolError(
        ErrorCode.INVALID_REQUEST,
        `the log has ${this.log.partitions} partition(s); no partition ${partition}`,
      );
    }
    return partition;
  }

  /** A position or cursor, for one partition. */
  private onePosition(v: number | string | null | undefined, partition: number, fill: number): number | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'number') return v;
    return this.guardSync(() => parseAuditCursor(v, this.log.partitions, fill))[partition];
  }

  private guardSync<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (err instanceof AuditCursorError) throw new ProtocolError(ErrorCode.INVALID_REQUEST, err.message);
      throw err;
    }
  }

  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof AuditCursorError) throw new ProtocolError(ErrorCode.INVALID_REQUEST, err.message);
      throw err;
    }
  }
}
