import { Inject, Injectable, type PipeTransform } from '@nestjs/common';
import type { AgentOsConfig } from '#config';
import { ErrorCode, MAX_JSON_DEPTH, ProtocolError, tooDeep } from '#contracts';
import { AGENTOS_CONFIG } from './runtime.tokens.js';

const decoder = new TextDecoder('utf-8', { fatal: true });

/** Turns the raw NATS body into a JSON object, or fails with -5 (too large, not UTF-8, not JSON, not an object). */
@Injectable()
export class JsonBodyPipe implements PipeTransform<Uint8Array, Record<string, unknown>> {
  constructor(@Inject(AGENTOS_CONFIG) private readonly config: AgentOsConfig) {}

  transform(raw: Uint8Array): Record<string, unknown> {
    return parseJsonBody(raw, this.config.maxRequestBytes);
  }
}

export function parseJsonBody(raw: Uint8Array, maxBytes: number): Record<string, unknown> {
  if (!(raw instanceof Uint8Array)) throw new ProtocolError(ErrorCode.INVALID_REQUEST, 'body must be bytes');
  if (raw.byteLength > maxBytes) {
    throw new ProtocolError(
      ErrorCode.INVALID_REQUEST,
      `body of ${raw.byteLength} bytes exceeds the limit of ${maxBytes}`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(raw));
  } catch {
    throw new ProtocolError(ErrorCode.INVALID_REQUEST, 'body is not valid UTF-8 JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ProtocolError(ErrorCode.INVALID_REQUEST, 'body must be a JSON object');
  }
  // every walk after this one (validation, canonical form, replies) recurses: refuse depth here
  if (tooDeep(value))
    throw new ProtocolError(ErrorCode.INVALID_REQUEST, `body is nested deeper than ${MAX_JSON_DEPTH}`);
  return value as Record<string, unknown>;
}
