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
import { AGENTOS_CONFIG, ApiErrorFilter, parseJsonBody, toApiError } from '#runtime';
import { EventSchemaCheck } from './event-schema-check.js';
import { GroupCommitQueue } from './group-commit.queue.js';

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * `agentos.v1.recorder.append`: the only way into the log. The request is checked whole before it
 * is queued (shape, then every event against its type's schema, depth and size): a malformed one
 * is refused with -5 and nothing of it is recorded. The reply is sent after the commit;
 * conflicts and failed conditions are normal replies (their `status`), while Postgres being
 * unavailable is `{error: {code: -7}}` and nothing was recorded (unless `outcomeUnknown`, when a
 * retry with the same ids or idempotency keys settles it).
 *
 * `agentos.internal.recorder.append`: the same for many requests in one message (kernels batch
 * their appends). Each request is checked and answered on its own, in request order; all valid
 * ones go to the group-commit queue together, and the reply is sent once each has its outcome.
 */
@Controller()
@UseFilters(ApiErrorFilter)
export class AppendController {
  private readonly schemas: EventSchemaCheck;

  constructor(
    private readonly queue: GroupCommitQueue,
    @Inject(AGENTOS_CONFIG) config: AgentOsConfig,
  ) {
    this.schemas = new EventSchemaCheck(maxEventBytes(config.limits));
  }

  @MessagePattern(Subjects.recorderAppend, { queue: 'recorder' })
  append(@Payload() raw: Uint8Array): Promise<RecorderAppendReply> {
    // NATS's max_payload bounds the body; each event is bounded by the schema check
    const body = parseJsonBody(raw, Number.MAX_SAFE_INTEGER) as unknown as RecorderAppendRequest;
    const problem = validateAppendRequest(body) ?? this.schemas.check(body);
    if (problem) throw new ProtocolError(ErrorCode.INVALID_REQUEST, `append refused: ${problem}`);
    return this.queue.submit(body);
  }

  @MessagePattern(Subjects.recorderAppendBatch, { queue: 'recorder' })
  async appendBatch(@Payload() raw: Uint8Array): Promise<RecorderAppendBatchReply> {
    const body = parseBatchBody(raw);
    const outcomes: RecorderAppendReply[] = new Array(body.requests.length);
    const valid: RecorderAppendRequest[] = [];
    const at: number[] = [];
    body.requests.forEach((request, i) => {
      const problem = validateAppendRequest(request) ?? this.schemas.check(request);
      if (problem) {
        outcomes[i] = { error: { code: ErrorCode.INVALID_REQUEST, message: `append refused: ${problem}` } };
        return;
      }
      valid.push(request);
      at.push(i);
    });
    if (valid.length > 0) {
      const settled = await Promise.allSettled(this.queue.submitAll(valid, body.deadline));
      settled.forEach((s, k) => {
        outcomes[at[k]] = s.status === 'fulfilled' ? s.value : toApiError(s.reason);
      });
    }
    return { outcomes };
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
