/**
 * Fastify makes a child logger for every request (`req.log`, bound to its request id). A pino
 * child serialises and redacts its bindings when it is made, a measurable share of a Nacos
 * registration's CPU (about 5 % of a request in a profile of the registry), yet most requests
 * never log: request logging is off and only refusals and failures write a line. This logger
 * makes the pino child on its first use instead. Written by hand: Fastify's
 * `childLoggerFactory` is the documented hook for it and no library provides a lazy child.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions, LevelWithSilentOrString, LogFn, Logger } from 'pino';

/** The registry's logger is pino's (`loggerInstance`). */
type Parent = Logger;

/** A request's logger: the parent's child with `bindings`, made when first written to. */
class LazyChildLogger {
  private made: Parent | undefined;

  constructor(private readonly parent: Parent, private readonly binds: Bindings, private readonly options: ChildLoggerOptions) {}

  private get real(): Parent {
    return (this.made ??= this.parent.child(this.binds, this.options));
  }

  get level(): LevelWithSilentOrString {
    return this.made ? this.made.level : this.parent.level;
  }

  set level(level: LevelWithSilentOrString) {
    this.real.level = level;
  }

  isLevelEnabled(level: string): boolean {
    return (this.made ?? this.parent).isLevelEnabled(level);
  }

  bindings(): Bindings {
    return this.made ? this.made.bindings() : { ...this.parent.bindings(), ...this.binds };
  }

  child(bindings: Bindings, options?: ChildLoggerOptions): Parent {
    return this.real.child(bindings, options);
  }

  fatal(...args: Parameters<LogFn>): void {
    this.write('fatal', args);
  }

  error(...args: Parameters<LogFn>): void {
    this.write('error', args);
  }

  warn(...args: Parameters<LogFn>): void {
    this.write('warn', args);
  }

  info(...args: Parameters<LogFn>): void {
    this.write('info', args);
  }

  debug(...args: Parameters<LogFn>): void {
    this.write('debug', args);
  }

  trace(...args: Parameters<LogFn>): void {
    this.write('trace', args);
  }

  silent(): void {}

  /** A line below the level is dropped without making the child (as pino drops it). */
  private write(level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace', args: Parameters<LogFn>): void {
    if (!this.made && !this.parent.isLevelEnabled(level)) return;
    (this.real[level] as (...a: unknown[]) => void)(...(args as unknown[]));
  }
}

/** Fastify's `childLoggerFactory`: a request's logger made on first use. */
export function lazyChildLogger(this: unknown, logger: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger {
  return new LazyChildLogger(logger as Parent, bindings, options) as unknown as FastifyBaseLogger;
}
