import { Controller, UseFilters } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { Subjects, type RecorderAppendReply, type RecorderAppendRequest } from '#contracts';
import { ApiErrorFilter, JsonBodyPipe } from '#runtime';
import { GroupCommitQueue } from './group-commit.queue.js';

/**
 * `agentos.v1.recorder.append`: the only way into the log. The reply is sent after the commit;
 * conflicts, failed conditions and rejected requests are normal replies (their `status`), while
 * Postgres being unavailable is `{error: {code: -7}}` and nothing of the request was recorded
 * (unless `outcomeUnknown`, when a retry with the same ids or idempotency keys settles it).
 */
@Controller()
@UseFilters(ApiErrorFilter)
export class AppendController {
  constructor(private readonly queue: GroupCommitQueue) {}

  @MessagePattern(Subjects.recorderAppend, { queue: 'recorder' })
  append(@Payload(JsonBodyPipe) body: Record<string, unknown>): Promise<RecorderAppendReply> {
    return this.queue.submit(body as unknown as RecorderAppendRequest);
  }
}
