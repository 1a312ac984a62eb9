import type { LogStore, LogSubject } from '../ports/log-store.port.js';
import type { Logger } from '../ports/logger.port.js';

/** A line longer than this is cut, with a marker: one runaway line must not fill the store. */
export const MAX_LOG_LINE_LENGTH = 8 * 1024;
/** Lines written in one chunk at most. */
const MAX_CHUNK_LINES = 500;
/** Characters waiting for the store at most; past it the oldest lines are dropped (the store is behind). */
const MAX_PENDING_LENGTH = 1024 * 1024;

export interface LogWriterDeps {
  logStore: LogStore;
  logger: Logger;
  settings: { logFlushMs: number };
}

/**
 * Writes a subject's output to the log store as it comes: lines are batched for `logFlushMs`
 * and appended one chunk after another (never two appends of one subject at once). The store
 * being unavailable never fails the work: the lines are dropped with a warning, the row still
 * gets its tail. `close()` writes what is left; call it before the row's status becomes final,
 * so a reader that sees the end has seen every line.
 */
export class LogWriter {
  private pending: string[] = [];
  private pendingLength = 0;
  private dropped = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private writing: Promise<void> = Promise.resolve();
  private closed = false;
  private warned = false;

  constructor(
    private readonly deps: LogWriterDeps,
    private readonly tenantId: string,
    private readonly subject: LogSubject,
  ) {}

  push(line: string): void {
    if (this.closed) return;
    const kept = line.length > MAX_LOG_LINE_LENGTH ? `${line.slice(0, MAX_LOG_LINE_LENGTH)} [line cut]` : line;
    this.pending.push(kept);
    this.pendingLength += kept.length;
    while (this.pendingLength > MAX_PENDING_LENGTH && this.pending.length > 1) {
      this.pendingLength -= (this.pending.shift() as string).length;
      this.dropped += 1;
    }
    if (this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.flush();
      }, this.deps.settings.logFlushMs);
    }
  }

  /** Appends what is pending (after any append in flight). */
  flush(): Promise<void> {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.writing = this.writing.then(() => this.writePending());
    return this.writing;
  }

  /** Writes what is left; later lines are ignored. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  private async writePending(): Promise<void> {
    while (this.pending.length > 0 || this.dropped > 0) {
      const lines = this.pending.splice(0, MAX_CHUNK_LINES);
      for (const line of lines) this.pendingLength -= line.length;
      if (this.dropped > 0) {
        lines.unshift(`[${this.dropped} line(s) dropped: the log store fell behind]`);
        this.dropped = 0;
      }
      try {
        await this.deps.logStore.append(this.tenantId, this.subject, lines);
      } catch (error) {
        if (!this.warned) {
          this.warned = true;
          this.deps.logger.warn(
            { err: error, [`${this.subject.kind}_id`]: this.subject.id },
            'cannot write to the log store; lines are dropped until it answers',
          );
        }
      }
    }
  }
}

/** The last `maxLength` characters of a stream of lines, joined by newlines. */
export class LogTail {
  private lines: string[] = [];
  private length = 0;

  constructor(private readonly maxLength: number) {}

  push(line: string): void {
    this.lines.push(line);
    this.length += line.length + 1;
    while (this.length > this.maxLength * 2 && this.lines.length > 1) {
      this.length -= (this.lines.shift() as string).length + 1;
    }
  }

  text(): string {
    const all = this.lines.join('\n');
    return all.length > this.maxLength ? all.slice(all.length - this.maxLength) : all;
  }
}
