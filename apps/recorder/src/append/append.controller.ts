import { Controller, Inject, UseFilters } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import type { AgentOsConfig } from '#config';
import {
  ErrorCode,
  MAX_JSON_DEPTH,
  ProtocolError,
  Subjects,
  maxEventBytes,
  tooDeep,
  type RecorderAppendBatchReply,
  type RecorderAppendBatchRequest,
  type RecorderAppendReply,
  type RecorderAppendRequest,
} from '#contracts';
import { validateAppendRequest } from '#event-store';
import { NatsRpcClient, ServiceUnavailableError } from '#messaging';
import { AGENTOS_CONFIG, ApiErrorFilter, parseJsonBody, toApiError } from '#runtime';
import { EventSchemaCheck } from './event-schema-check.js';
import { PartitionWriters } from './partition-writers.js';

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * `agentos.v1.recorder.append`: the only way into the log. The request is checked whole before it
 * is queued (shape, then every event against its type's schema, depth and size): a malformed one
 * is refused with -5 and nothing of it is recorded. The reply is sent after the commit;
 * conflicts and failed conditions are normal replies (their `status`), while Postgres being
 * unavailable is `{error: {code: -7}}` and nothing was recorded (unless `outcomeUnknown`, when a
 * retry with the same ids or idempotency keys settles it).
 *
 * The streams of one request (appended and conditioned) must live in one partition, whose writer
 * commits it; a request across partitions is refused with -5.
 *
 * `agentos.internal.recorder.append.<partition>`: the same for many requests in one message
 * (kernels batch their appends, one message per partition). Each request is checked and answered
 * on its own, in request order; valid ones go to their partition's group-commit queue together,
 * and the reply is sent once each has its outcome.
 */
@Controller()
@UseFilters(ApiErrorFilter)
export class AppendController {
  private readonly schemas: EventSchemaCheck;

  constructor(
    private readonly writers: PartitionWriters,
    private readonly rpc: NatsRpcClient,
    @Inject(AGENTOS_CONFIG) config: AgentOsConfig,
  ) {
    this.schemas = new EventSchemaCheck(maxEventBytes(config.limits));
  }

  @MessagePattern(Subjects.recorderAppend, { queue: 'recorder' })
  async append(@Payload() raw: Uint8Array): Promise<RecorderAppendReply> {
    // NATS's max_payload bounds the body; each event is bounded by the schema check
    const body = parseJsonBody(raw, Number.MAX_SAFE_INTEGER) as unknown as RecorderAppendRequest;
    const problem = validateAppendRequest(body) ?? this.schemas.check(body);
    if (problem) throw new ProtocolError(ErrorCode.INVALID_REQUEST, `append refused: ${problem}`);
    const partition = this.writers.partitionOf(body);
    if (typeof partition === 'string')
      throw new ProtocolError(ErrorCode.INVALID_REQUEST, `append refused: ${partition}`);
    return this.writers.submit(partition, body);
  }

  @MessagePattern(Subjects.recorderAppendBatchAll, { queue: 'recorder' })
  async appendBatch(@Payload() raw: Uint8Array): Promise<RecorderAppendBatchReply> {
    const body = parseBatchBody(raw);
    const outcomes: RecorderAppendReply[] = new Array(body.requests.length);
    // valid requests by partition, with their places in the reply
    const byPartition = new Map<number, { requests: RecorderAppendRequest[]; at: number[] }>();
    body.requests.forEach((request, i) => {
      const problem = validateAppendRequest(request) ?? this.schemas.check(request);
      const partition = problem ?? this.writers.partitionOf(request);
      if (typeof partition === 'string') {
        outcomes[i] = { error: { code: ErrorCode.INVALID_REQUEST, message: `append refused: ${partition}` } };
        return;
      }
      let group = byPartition.get(partition);
      if (!group) byPartition.set(partition, (group = { requests: [], at: [] }));
      group.requests.push(request);
      group.at.push(i);
    });
    await Promise.all(
      [...byPartition].map(async ([partition, group]) => {
        if (!this.writers.owns(partition)) {
          // a batch for another recorder's partition (a client that batched across partitions)
          const forwarded = await this.forward(partition, group.requests, body.deadline);
          forwarded.forEach((o, k) => (outcomes[group.at[k]] = o));
          return;
        }
        const settled = await Promise.allSettled(this.writers.submitAll(partition, group.requests, body.deadline));
        settled.forEach((s, k) => {
          outcomes[group.at[k]] = s.status === 'fulfilled' ? s.value : toApiError(s.reason);
        });
      }),
    );
    return { outcomes };
  }

  /**
   * Requests of a partition another recorder writes, sent to its owner's batch subject. No answer
   * (a lost reply) means the outcome is unknown: the caller settles it by its ids, as always.
   */
  private async forward(
    partition: number,
    requests: RecorderAppendRequest[],
    deadline?: number,
  ): Promise<RecorderAppendReply[]> {
    try {
      const reply = await this.rpc.request<RecorderAppendBatchReply>(
        Subjects.recorderAppendBatch(partition),
        { requests, ...(deadline !== undefined ? { deadline } : {}) },
        FORWARD_TIMEOUT_MS,
      );
      return requests.map((_, i) => reply.outcomes?.[i] ?? unknownOutcome(partition));
    } catch (err) {
      const lost = !(err instanceof ServiceUnavailableError) || err.maybeDelivered;
      return requests.map(() =>
        lost
          ? unknownOutcome(partition)
          : { error: { code: ErrorCode.UNAVAILABLE, message: `no recorder writes partition ${partition}` } },
      );
    }
  }
}

/**
 * `{requests: [...], deadline?}`, or -5 for the whole message. The body may nest two levels more
 * than a single append (the batch object and its array), so that a batch can carry whatever a
 * single append can.
 */
function parseBatchBody(raw: Uint8Array): RecorderAppendBatchRequest {
  if (!(raw instanceof Uint8Array)) throw new ProtocolError(ErrorCode.INVALID_REQUEST, 'body must be bytes');
  let body: unknown;
  try {
    body = JSON.parse(decoder.decode(raw));
  } catch {
    throw new ProtocolError(ErrorCode.INVALID_REQUEST, 'body is not valid UTF-8 JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ProtocolError(ErrorCode.INVALID_REQUEST, 'body must be a JSON object');
  }
  if (tooDeep(body, MAX_JSON_DEPTH + 2)) {
    throw new ProtocolError(ErrorCode.INVALID_REQUEST, `body is nested deeper than ${MAX_JSON_DEPTH + 2}`);
  }
  const b = body as Partial<RecorderAppendBatchRequest>;
  if (!Array.isArray(b.requests)) throw new ProtocolError(ErrorCode.INVALID_REQUEST, 'requests must be an array');
  if (b.deadline !== undefined && (typeof b.deadline !== 'number' || !Number.isFinite(b.deadline))) {
    throw new ProtocolError(ErrorCode.INVALID_REQUEST, 'deadline must be a number (epoch ms)');
  }
  return b as RecorderAppendBatchRequest;
}

/** How long a forwarded batch may take (the owner commits within its own deadlines). */
const FORWARD_TIMEOUT_MS = 10_000;

function unknownOutcome(partition: number): RecorderAppendReply {
  return {
    error: {
      code: ErrorCode.UNAVAILABLE,
      message: `the recorder of partition ${partition} did not answer`,
      outcomeUnknown: true,
    },
  };
}
