import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { ErrorCode, ProtocolError } from '#contracts';

/** class-validator DTO validation whose failures are protocol errors (-5) naming each bad field. */
export function protocolValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    transform: true,
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors: ValidationError[]) =>
      new ProtocolError(ErrorCode.INVALID_REQUEST, `invalid request: ${describeValidationErrors(errors)}`),
  });
}

export function describeValidationErrors(errors: ValidationError[], parent = ''): string {
  const parts: string[] = [];
  for (const e of errors) {
    const path = parent ? `${parent}.${e.property}` : e.property;
    if (e.constraints) parts.push(`${path}: ${Object.values(e.constraints).join(', ')}`);
    if (e.children?.length) parts.push(describeValidationErrors(e.children, path));
  }
  return parts.join('; ');
}
