import { errors } from '@nats-io/transport-node';
import { isRetryableTransportError } from './transport-errors.js';

describe('isRetryableTransportError', () => {
  it('retries what may work next time: no responders, timeout, a dropped connection', () => {
    const noResponders = new errors.RequestError('no responders', {
      cause: new errors.NoRespondersError('agentos.v1.syscall.a1'),
    });
    expect(isRetryableTransportError(noResponders)).toBe(true);
    expect(isRetryableTransportError(new errors.TimeoutError())).toBe(true);
    expect(isRetryableTransportError(new errors.RequestError('connection disconnected'))).toBe(true);
    expect(isRetryableTransportError(new errors.ConnectionError('connection refused'))).toBe(true);
  });

  it('does not retry what will fail the same way: permissions, a closed or draining connection, bugs', () => {
    const denied = new errors.RequestError('permissions violation', {
      cause: new errors.PermissionViolationError('denied', 'publish', 'agentos.v1.syscall.other'),
    });
    expect(isRetryableTransportError(denied)).toBe(false);
    expect(isRetryableTransportError(new errors.RequestError('connection closed'))).toBe(false);
    expect(isRetryableTransportError(new errors.ClosedConnectionError())).toBe(false);
    expect(isRetryableTransportError(new errors.DrainingConnectionError())).toBe(false);
    expect(isRetryableTransportError(new SyntaxError('Unexpected token'))).toBe(false);
  });
});
