import { BaseRpcContext } from '@nestjs/microservices';
import type { MsgHdrs } from '@nats-io/transport-node';

type Args = [subject: string, headers: MsgHdrs | undefined, receivedAt: number];

/** What a handler may learn about the NATS message besides its body. */
export class NatsRequestContext extends BaseRpcContext<Args> {
  /** The concrete subject the message arrived on (the identity, for syscalls). */
  getSubject(): string {
    return this.args[0];
  }

  getHeaders(): MsgHdrs | undefined {
    return this.args[1];
  }

  /** performance.now() when the message was received. */
  getReceivedAt(): number {
    return this.args[2];
  }

  /** The last token of the subject. */
  getLastToken(): string {
    const s = this.args[0];
    return s.slice(s.lastIndexOf('.') + 1);
  }
}
