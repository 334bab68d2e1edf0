import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { Subjects, type SyscallReply } from '#contracts';
import { NatsRequestContext } from '#messaging';
import { SyscallService } from './syscall.service.js';

/**
 * `agentos.v1.syscall.<agentId>`: plain JSON request-reply, the subject is the identity. Every
 * request gets a reply; the raw body goes to the service, which answers malformed ones with -5.
 */
@Controller()
export class SyscallController {
  constructor(private readonly syscalls: SyscallService) {}

  @MessagePattern(Subjects.syscallAll, { queue: 'kernel' })
  handle(@Payload() raw: Uint8Array, @Ctx() ctx: NatsRequestContext): Promise<SyscallReply> {
    return this.syscalls.handle(ctx.getLastToken(), raw, ctx.getReceivedAt());
  }
}
