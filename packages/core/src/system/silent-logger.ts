import type { Logger } from '../ports/logger.port.js';

/** A logger that drops everything, for embedding without logs. */
export class SilentLogger implements Logger {
  debug(): void {}
  info(): void {}
  warn(): void {}
  error(): void {}
  child(): Logger {
    return this;
  }
}
