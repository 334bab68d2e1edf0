import type { LoggerService } from '@nestjs/common';
import { createRequire } from 'node:module';
import pino from 'pino';

export interface LoggerSettings {
  service: string;
  instanceId: string;
  logLevel: string;
  logFormat: 'json' | 'pretty';
}

/**
 * One JSON object a line (service, instance, level, msg and any fields) in production; colourised
 * single lines in development when pino-pretty is installed.
 */
export function createLogger(s: LoggerSettings): pino.Logger {
  const base = { service: s.service, instance: s.instanceId };
  const level = s.logLevel;
  if (s.logFormat === 'pretty' && prettyAvailable()) {
    return pino({
      level,
      base,
      transport: {
        target: 'pino-pretty',
        options: { colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' },
      },
    });
  }
  return pino({
    level,
    base,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });
}

function prettyAvailable(): boolean {
  try {
    createRequire(import.meta.url).resolve('pino-pretty');
    return true;
  } catch {
    return false;
  }
}

/** Nest's logger interface on top of pino, so framework messages share the same format. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: pino.Logger) {}

  /** Nest's own `log` chatter (modules loaded, routes mapped) is debug detail, not operations news. */
  log(message: unknown, context?: string): void {
    this.write('debug', message, context);
  }
  error(message: unknown, trace?: string, context?: string): void {
    this.write('error', message, context, trace);
  }
  warn(message: unknown, context?: string): void {
    this.write('warn', message, context);
  }
  debug(message: unknown, context?: string): void {
    this.write('debug', message, context);
  }
  verbose(message: unknown, context?: string): void {
    this.write('trace', message, context);
  }
  fatal(message: unknown, context?: string): void {
    this.write('fatal', message, context);
  }

  private write(level: pino.Level, message: unknown, context?: string, trace?: string): void {
    const fields: Record<string, unknown> = {};
    if (context) fields.component = context;
    if (trace) fields.trace = trace;
    if (message instanceof Error) {
      fields.err = message;
      this.logger[level](fields, message.message);
    } else if (typeof message === 'object' && message !== null) {
      this.logger[level]({ ...fields, ...(message as object) });
    } else {
      this.logger[level](fields, String(message));
    }
  }
}
