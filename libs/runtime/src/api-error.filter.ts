import { Catch, Logger, type ArgumentsHost, type RpcExceptionFilter } from '@nestjs/common';
import { of, type Observable } from 'rxjs';
import { ErrorCode, ProtocolError, clip, type ApiError } from '#contracts';
import { ServiceUnavailableError } from '#messaging';
import { EventStoreUnavailableError, isConnectionError } from '#event-store';

/**
 * Turns any failure of an operator/admin handler into the documented `{error: {code, message}}`
 * reply, so callers always get an answer: protocol errors keep their code, infrastructure
 * failures are -7, anything else is -4 (and logged).
 */
@Catch()
export class ApiErrorFilter implements RpcExceptionFilter<unknown> {
  private readonly logger = new Logger('ApiErrorFilter');

  catch(exception: unknown, _host: ArgumentsHost): Observable<ApiError> {
    return of(toApiError(exception, this.logger));
  }
}

/** An error reply stays small whatever the failure said (it must fit one NATS message). */
const MAX_MESSAGE = 4096;

export function toApiError(exception: unknown, logger?: Logger): ApiError {
  const e = rawApiError(exception, logger);
  if (e.error.message.length > MAX_MESSAGE) e.error.message = `${clip(e.error.message, MAX_MESSAGE)}…`;
  return e;
}

function rawApiError(exception: unknown, logger?: Logger): ApiError {
  if (exception instanceof ProtocolError)
    return { error: { code: exception.code, message: exception.message, ...exception.details } };
  if (exception instanceof EventStoreUnavailableError) {
    return {
      error: { code: ErrorCode.UNAVAILABLE, message: exception.message, outcomeUnknown: exception.outcomeUnknown },
    };
  }
  if (exception instanceof ServiceUnavailableError || isConnectionError(exception)) {
    return { error: { code: ErrorCode.UNAVAILABLE, message: (exception as Error).message } };
  }
  logger?.error((exception as Error)?.stack ?? String(exception));
  return { error: { code: ErrorCode.HANDLER_ERROR, message: (exception as Error)?.message ?? 'internal error' } };
}
