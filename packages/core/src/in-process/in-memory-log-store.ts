import type { Clock } from '../ports/clock.port.js';
import type { LogChunk, LogReadOptions, LogStore, LogSubject } from '../ports/log-store.port.js';

interface StoredChunk extends LogChunk {
  tenantId: string;
  seq: number;
}

/** Chunks kept per subject: with the writer's chunks of at most 64 KB, a few MB. */
export const DEFAULT_MAX_CHUNKS = 64;

/** The log store in memory: chunks in write order, the oldest of a subject dropped past `maxChunks`. */
export class InMemoryLogStore implements LogStore {
  private readonly chunks = new Map<string, StoredChunk[]>();
  private seq = 0;

  constructor(
    private readonly clock: Clock = { now: () => new Date() },
    private readonly maxChunks = DEFAULT_MAX_CHUNKS,
  ) {}

  async append(tenantId: string, subject: LogSubject, lines: readonly string[]): Promise<void> {
    if (lines.length === 0) return;
    const key = keyOf(subject);
    const list = this.chunks.get(key) ?? [];
    this.seq += 1;
    list.push({ tenantId, seq: this.seq, cursor: String(this.seq), lines: [...lines], at: this.clock.now() });
    if (list.length > this.maxChunks) list.splice(0, list.length - this.maxChunks);
    this.chunks.set(key, list);
  }

  async read(tenantId: string, subject: LogSubject, options: LogReadOptions = {}): Promise<LogChunk[]> {
    const after = options.after == null ? 0 : Number(options.after);
    const found = (this.chunks.get(keyOf(subject)) ?? []).filter(
      (chunk) => chunk.tenantId === tenantId && chunk.seq > (Number.isFinite(after) ? after : 0),
    );
    return found
      .slice(0, options.limit ?? found.length)
      .map(({ cursor, lines, at }) => ({ cursor, lines: [...lines], at }));
  }

  async remove(tenantId: string, subject: LogSubject): Promise<void> {
    const key = keyOf(subject);
    const kept = (this.chunks.get(key) ?? []).filter((chunk) => chunk.tenantId !== tenantId);
    if (kept.length === 0) this.chunks.delete(key);
    else this.chunks.set(key, kept);
  }

  async removeOlderThan(cutoff: Date): Promise<number> {
    let removed = 0;
    for (const [key, list] of this.chunks) {
      const kept = list.filter((chunk) => chunk.at.getTime() >= cutoff.getTime());
      removed += list.length - kept.length;
      if (kept.length === 0) this.chunks.delete(key);
      else this.chunks.set(key, kept);
    }
    return removed;
  }
}

const keyOf = (subject: LogSubject): string => `${subject.kind}:${subject.id}`;
