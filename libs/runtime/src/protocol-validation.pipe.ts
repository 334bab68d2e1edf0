import { ValidationPipe, type ArgumentMetadata, type ValidationError } from '@nestjs/common';
import { ErrorCode, ProtocolError } from '#contracts';

/** How much of the validation failures a reply repeats: a body with 50,000 bad keys must not make a 1 MiB reply. */
const MAX_LISTED = 10;
const MAX_MESSAGE = 2000;

/**
 * class-validator DTO validation whose failures are protocol errors (-5) naming the bad fields.
 * Before the DTO sees the body: a top-level key named like an Object.prototype member (which
 * class-transformer would silently drop instead of refusing as unknown) is -5, and so is U+0000
 * in a top-level string, which no Postgres text column or NATS subject can hold.
 */
class ProtocolValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const key of Object.keys(value)) {
        if (key in Object.prototype || key === 'prototype') {
          throw new ProtocolError(ErrorCode.INVALID_REQUEST, `invalid request: property ${key} should not exist`);
        }
        const v = (value as Record<string, unknown>)[key];
        const strings = typeof v === 'string' ? [v] : Array.isArray(v) ? v.filter((x) => typeof x === 'string') : [];
        if (strings.some((s: string) => s.includes('\u0000'))) {
          throw new ProtocolError(ErrorCode.INVALID_REQUEST, `invalid request: ${key} contains U+0000`);
        }
      }
    }
    return super.transform(value, metadata);
  }
}

export function protocolValidationPipe(): ValidationPipe {
  return new ProtocolValidationPipe({
    transform: true,
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors: ValidationError[]) =>
      new ProtocolError(ErrorCode.INVALID_REQUEST, `invalid request: ${describeValidationErrors(errors)}`),
  });
}

/** The first few failures, `field: constraint` each, bounded in length. */
export function describeValidationErrors(errors: ValidationError[]): string {
  const parts: string[] = [];
  let total = 0;
  const walk = (list: ValidationError[], parent: string) => {
    for (const e of list) {
      const path = parent ? `${parent}.${e.property}` : e.property;
      if (e.constraints) {
        total += 1;
        if (parts.length < MAX_LISTED) parts.push(`${path}: ${Object.values(e.constraints).join(', ')}`);
      }
      if (e.children?.length) walk(e.children, path);
    }
  };
  walk(errors, '');
  const more = total > parts.length ? `; and ${total - parts.length} more` : '';
  const text = parts.join('; ');
  return (text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE).toWellFormed()}…` : text) + more;
}
