import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions, LogFn } from 'pino';

/**
 * Fastify's `childLoggerFactory`: each request's logger (its `reqId` bound) is made the first
 * time the request logs, not when it arrives. Request logging is off (task events are logged
 * instead), so almost no request ever logs, while a pino child made for every one (bindings
 * serialized, redaction set up) cost about a tenth of a hot poll's CPU.
 */
export function lazyRequestLogger(logger: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger {
  return new LazyRequestLogger(() => logger.child(bindings, options));
}

const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
type Level = (typeof levels)[number];

// Its logging methods are put on the prototype below, one per level, each passing to the child.
interface LazyRequestLogger extends Pick<FastifyBaseLogger, Level> {}

class LazyRequestLogger implements FastifyBaseLogger {
  private made?: FastifyBaseLogger;

  constructor(private readonly make: () => FastifyBaseLogger) {}

  get logger(): FastifyBaseLogger {
    return (this.made ??= this.make());
  }

  get level(): string {
    return this.logger.level;
  }

  set level(level: string) {
    this.logger.level = level;
  }

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.logger.child(bindings, options);
  }
}

for (const level of levels) {
  LazyRequestLogger.prototype[level] = function (this: LazyRequestLogger, ...args: Parameters<LogFn>) {
    this.logger[level](...args);
  };
}
