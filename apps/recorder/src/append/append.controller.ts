import { Controller, Inject, UseFilters } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import type { AgentOsConfig } from '#config';
import {
  ErrorCode,
  ProtocolError,
  Subjects,
  maxEventBytes,
  type RecorderAppendReply,
  type RecorderAppendRequest,
} from '#contracts';
import { validateAppendRequest } from '#event-store';
import { AGENTOS_CONFIG, ApiErrorFilter, parseJsonBody } from '#runtime';
import { EventSchemaCheck } from './event-schema-check.js';
import { GroupCommitQueue } from './group-commit.queue.js';

/**
 * `agentos.v1.recorder.append`: the only way into the log. The request is checked whole before it
 * is queued (shape, then every event against its type's schema, depth and size): a malformed one
 * is refused with -5 and nothing of it is recorded. The reply is sent after the commit;
 * conflicts and failed conditions are normal replies (their `status`), while Postgres being
 * unavailable is `{error: {code: -7}}` and nothing was recorded (unless `outcomeUnknown`, when a
 * retry with the same ids or idempotency keys settles it).
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
}
