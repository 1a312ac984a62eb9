interface Entry {
  at: number;
  line: string;
}

/** A line longer than this is cut (a marker says so): one runaway line must not hold memory. */
export const MAX_RING_LINE_LENGTH = 8 * 1024;

/**
 * The latest lines of one instance's output, bounded by count and by characters, with followers
 * that are woken as lines arrive. Once closed (the instance ended) followers finish after the
 * last line.
 */
export class LogRing {
  private readonly entries: Entry[] = [];
  private length = 0;
  private readonly waiters = new Set<() => void>();
  /** Lines pushed since the start, so a follower knows which it has not seen yet. */
  private total = 0;
  private closed = false;

  constructor(
    private readonly capacity: number,
    private readonly maxLength = 512 * 1024,
  ) {}

  push(text: string): void {
    if (this.closed) return;
    const line = text.length > MAX_RING_LINE_LENGTH ? `${text.slice(0, MAX_RING_LINE_LENGTH)} [line cut]` : text;
    this.entries.push({ at: Date.now(), line });
    this.length += line.length;
    while (this.entries.length > this.capacity || (this.length > this.maxLength && this.entries.length > 1)) {
      this.length -= (this.entries.shift() as Entry).line.length;
    }
    this.total += 1;
    this.wake();
  }

  close(): void {
    this.closed = true;
    this.wake();
  }

  tail(count: number): string[] {
    return this.entries.slice(-count).map((entry) => entry.line);
  }

  async *read(options: { follow?: boolean; since?: Date; signal?: AbortSignal } = {}): AsyncGenerator<string> {
    const since = options.since?.getTime() ?? Number.NEGATIVE_INFINITY;
    const signal = options.signal;
    let seen = this.total - this.entries.length;
    for (;;) {
      // Lines that fell out of the window while this reader waited are skipped, not replayed.
      const first = this.total - this.entries.length;
      const batch = this.entries.slice(Math.max(0, seen - first));
      seen = this.total;
      for (const entry of batch) {
        if (entry.at >= since) yield entry.line;
      }
      if (!options.follow || signal?.aborted) return;
      if (seen !== this.total) continue;
      if (this.closed) return;
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.waiters.delete(done);
          signal?.removeEventListener('abort', done);
          resolve();
        };
        this.waiters.add(done);
        signal?.addEventListener('abort', done, { once: true });
      });
    }
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}
