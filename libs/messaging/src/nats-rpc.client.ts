import { errors, headers, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';
import { CORRELATION_HEADER, currentCorrelationId } from './correlation.js';
import { withSubjectPrefix } from './subjects.js';

/** The bus could not deliver a request or no reply came back in time. */
export class ServiceUnavailableError extends Error {
  override readonly name = 'ServiceUnavailableError';
  constructor(
    message: string,
    /** true when the request may have been delivered and acted on (timeout), false when it surely was not. */
    readonly maybeDelivered: boolean,
  ) {
    super(message);
  }
}

/** JSON request-reply and publish on NATS, with the deployment's subject prefix applied. */
export class NatsRpcClient {
  constructor(
    readonly nc: NatsConnection,
    readonly subjectPrefix: string,
  ) {}

  subject(protocolSubject: string): string {
    return withSubjectPrefix(protocolSubject, this.subjectPrefix);
  }

  async request<T>(protocolSubject: string, body: unknown, timeoutMs = 5000): Promise<T> {
    const subject = this.subject(protocolSubject);
    try {
      const reply = await this.nc.request(subject, JSON.stringify(body), {
        timeout: timeoutMs,
        headers: correlationHeaders(),
      });
      return reply.json<T>();
    } catch (err) {
      throw toUnavailable(err, subject);
    }
  }

  /** A request whose body is already JSON text (a batch assembled from serialised parts). */
  async requestText<T>(protocolSubject: string, json: string, timeoutMs = 5000): Promise<T> {
    const subject = this.subject(protocolSubject);
    try {
      const reply = await this.nc.request(subject, json, { timeout: timeoutMs, headers: correlationHeaders() });
      return reply.json<T>();
    } catch (err) {
      throw toUnavailable(err, subject);
    }
  }

  /** A request whose reply the caller reads itself (to bound or inspect the bytes). */
  async requestBytes(protocolSubject: string, body: unknown, timeoutMs = 5000): Promise<Uint8Array> {
    const subject = this.subject(protocolSubject);
    try {
      const reply = await this.nc.request(subject, JSON.stringify(body), {
        timeout: timeoutMs,
        headers: correlationHeaders(),
      });
      return reply.data;
    } catch (err) {
      throw toUnavailable(err, subject);
    }
  }

  publish(protocolSubject: string, body: unknown): void {
    this.publishRaw(protocolSubject, JSON.stringify(body));
  }

  /** Publishes an already serialised JSON body. */
  publishRaw(protocolSubject: string, json: string): void {
    try {
      this.nc.publish(this.subject(protocolSubject), json, { headers: correlationHeaders() });
    } catch {
      // a closed or draining connection: publications are best-effort hints
    }
  }
}

function toUnavailable(err: unknown, subject: string): Error {
  if (err instanceof errors.NoRespondersError) {
    return new ServiceUnavailableError(`no service answers on ${subject}`, false);
  }
  if (err instanceof errors.TimeoutError) {
    return new ServiceUnavailableError(`no reply on ${subject} in time`, true);
  }
  if (err instanceof errors.RequestError) {
    const cause = (err as Error).cause;
    if (cause instanceof errors.NoRespondersError)
      return new ServiceUnavailableError(`no service answers on ${subject}`, false);
    if (cause instanceof errors.TimeoutError)
      return new ServiceUnavailableError(`no reply on ${subject} in time`, true);
  }
  if (err instanceof errors.ClosedConnectionError || err instanceof errors.DrainingConnectionError) {
    return new ServiceUnavailableError(`NATS connection closed (${subject})`, false);
  }
  if (err instanceof SyntaxError) return new ServiceUnavailableError(`malformed reply on ${subject}`, true);
  return err instanceof Error ? err : new Error(String(err));
}

/** The current correlation id as NATS headers, when there is one. */
function correlationHeaders(): MsgHdrs | undefined {
  const id = currentCorrelationId();
  if (!id) return undefined;
  const h = headers();
  h.set(CORRELATION_HEADER, id);
  return h;
}
