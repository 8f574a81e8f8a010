import pino, { type Logger } from 'pino';
import type { LoggerService } from '@nestjs/common';

export type { Logger } from 'pino';

/**
 * Paths pino blanks out before a line is written. Secrets must never reach logs: request
 * headers that carry credentials, and any field named like one.
 */
export const REDACTED_LOG_PATHS = [
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'headers["x-custodian-api-key"]',
  '*.headers["x-custodian-api-key"]',
  'apiKey',
  '*.apiKey',
  'password',
  '*.password',
  'secret',
  '*.secret',
  'token',
  '*.token',
];

export interface LoggerOptions {
  level: string;
  instanceId: string;
  roles: readonly string[];
  /** Where lines go; defaults to stdout. Tests pass a stream to read them back. */
  destination?: pino.DestinationStream;
}

/** One JSON-lines logger per process; roles and instance are on every line. */
export function createLogger(opts: LoggerOptions): Logger {
  return pino(
    {
      level: opts.level,
      base: { service: 'custodian', instance: opts.instanceId, roles: opts.roles.join(',') },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACTED_LOG_PATHS, censor: '[REDACTED]' },
    },
    opts.destination ?? pino.destination({ sync: false }),
  );
}

/** Routes Nest's own log calls into the process logger, as structured lines. */
export class NestPinoLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, ...optional: unknown[]): void {
    this.write('info', message, optional);
  }
  error(message: unknown, ...optional: unknown[]): void {
    this.write('error', message, optional);
  }
  warn(message: unknown, ...optional: unknown[]): void {
    this.write('warn', message, optional);
  }
  debug(message: unknown, ...optional: unknown[]): void {
    this.write('debug', message, optional);
  }
  verbose(message: unknown, ...optional: unknown[]): void {
    this.write('trace', message, optional);
  }
  fatal(message: unknown, ...optional: unknown[]): void {
    this.write('fatal', message, optional);
  }

  private write(level: pino.Level, message: unknown, optional: unknown[]): void {
    // Nest passes the context (a class name) last, and for errors a stack before it.
    const context = typeof optional[optional.length - 1] === 'string' ? optional.pop() : undefined;
    const stack = typeof optional[0] === 'string' ? optional[0] : undefined;
    if (message instanceof Error) {
      this.logger[level]({ context, err: message }, message.message);
    } else if (typeof message === 'object' && message !== null) {
      this.logger[level]({ context, ...(message as object) });
    } else {
      this.logger[level]({ context, ...(stack ? { stack } : {}) }, String(message));
    }
  }
}
