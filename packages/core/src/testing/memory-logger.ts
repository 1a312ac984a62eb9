import type { Logger } from '../ports/logger.port.js';

export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  fields: Record<string, unknown>;
  message: string | undefined;
}

/** Keeps log entries in memory (children share the list) so tests can assert on them. */
export class MemoryLogger implements Logger {
  constructor(
    readonly entries: LogEntry[] = [],
    private readonly bindings: Record<string, unknown> = {},
  ) {}

  private write(level: LogEntry['level'], fields: object, message?: string): void {
    this.entries.push({ level, fields: { ...this.bindings, ...fields }, message });
  }

  debug(fields: object, message?: string): void {
    this.write('debug', fields, message);
  }
  info(fields: object, message?: string): void {
    this.write('info', fields, message);
  }
  warn(fields: object, message?: string): void {
    this.write('warn', fields, message);
  }
  error(fields: object, message?: string): void {
    this.write('error', fields, message);
  }
  child(bindings: object): Logger {
    return new MemoryLogger(this.entries, { ...this.bindings, ...bindings });
  }
}
