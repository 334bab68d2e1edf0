import { Controller, Inject, UseFilters } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import type pg from 'pg';
import { ErrorCode, ProtocolError, Subjects, type RecorderHeadReply as HeadReply } from '#contracts';
import {
  PartitionedLog,
  PgEventReader,
  eventPageJson,
  verifyChain,
  verifyLog,
  type LogVerifyReport,
  type VerifyReport,
} from '#event-store';
import { RawJson } from '#messaging';
import { Readiness } from '#observability';
import { ApiErrorFilter, JsonBodyPipe, PG_POOL, protocolValidationPipe } from '#runtime';
import { HeadDto, ReadAllDto, ReadStreamDto, VerifyDto } from './read-requests.dto.js';

/** Read side of the recorder over NATS: by stream, by global position range, head, verify, health. */
@Controller()
@UseFilters(ApiErrorFilter)
export class QueryController {
  constructor(
    private readonly reader: PgEventReader,
    private readonly log: PartitionedLog,
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    @Inject(Readiness) private readonly readiness: Readiness,
  ) {}

  /** A stream's events; `head` is the head of the stream's partition. */
  @MessagePattern(Subjects.recorderReadStream, { queue: 'recorder' })
  async readStream(@Payload(JsonBodyPipe, protocolValidationPipe()) q: ReadStreamDto): Promise<RawJson> {
    const partition = this.log.partitionOf(q.streamId);
    const [rows, head] = await Promise.all([this.reader.readStreamRows(q.streamId, q), this.reader.head(partition)]);
    return new RawJson(eventPageJson(rows, () => ({ head }), partition));
  }

  /** One partition's events by position (partition 0 unless asked). */
  @MessagePattern(Subjects.recorderReadAll, { queue: 'recorder' })
  async readAll(@Payload(JsonBodyPipe, protocolValidationPipe()) q: ReadAllDto): Promise<RawJson> {
    const partition = this.partition(q.partition);
    const [rows, head] = await Promise.all([this.reader.readAllRows({ ...q, partition }), this.reader.head(partition)]);
    return new RawJson(eventPageJson(rows, () => ({ head }), partition));
  }

  /**
   * A partition's head (0 unless asked), with the partition count; with several partitions,
   * `heads` lists every partition's.
   */
  @MessagePattern(Subjects.recorderHead, { queue: 'recorder' })
  async head(@Payload(JsonBodyPipe, protocolValidationPipe()) q: HeadDto): Promise<HeadReply> {
    const partition = this.partition(q.partition);
    if (this.log.partitions === 1) return { ...(await this.reader.head(0)), partitions: 1 };
    const heads = await this.reader.heads();
    return { ...heads[partition], partitions: this.log.partitions, heads };
  }

  /**
   * Recomputes hash chains: with one partition, the log's (as always); with `partition`, that
   * partition's, naming it; with several and none asked, every partition's (`{ok, checked,
   * partitions: [report with partition]}`), `from`/`to` then bounding each partition's positions.
   */
  @MessagePattern(Subjects.recorderVerify, { queue: 'recorder' })
  async verify(@Payload(JsonBodyPipe, protocolValidationPipe()) q: VerifyDto): Promise<VerifyReport | LogVerifyReport> {
    if (this.log.partitions === 1) {
      this.partition(q.partition);
      return verifyChain(this.pool, { from: q.from, to: q.to });
    }
    if (q.partition !== undefined) {
      const partition = this.partition(q.partition);
      return verifyChain(this.log.pool(partition), {
        from: q.from,
        to: q.to,
        partition,
        partitions: this.log.partitions,
      });
    }
    return verifyLog(this.log, { from: q.from, to: q.to });
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

  @MessagePattern(Subjects.recorderHealth)
  async health(): Promise<{ status: string; checks: Record<string, string> }> {
    const r = await this.readiness.evaluate();
    return { status: r.ready ? 'ready' : 'not ready', checks: r.checks };
  }
}
