/** Whose output a log is. */
export type LogSubject = { kind: 'build' | 'deployment'; id: string };

/** Lines written together; `cursor` orders the chunks of a subject and resumes a reader after one. */
export interface LogChunk {
  cursor: string;
  lines: string[];
  at: Date;
}

export interface LogReadOptions {
  /** Only the chunks written after this one (a cursor of an earlier read). */
  after?: string | null;
  /** At most this many chunks, oldest first. Default: all that are kept. */
  limit?: number;
}

/**
 * The output of builds and deployments, kept in bounded chunks (the latest few MB of each
 * subject) so that any process can show it while it is written: the worker appends, the API
 * server reads and follows. Tenant-scoped like every store: a subject of another tenant reads
 * empty. Appends of one subject are made one after another by its single writer.
 */
export interface LogStore {
  append(tenantId: string, subject: LogSubject, lines: readonly string[]): Promise<void>;
  read(tenantId: string, subject: LogSubject, options?: LogReadOptions): Promise<LogChunk[]>;
  /** Deletes every chunk of the subject (its row is deleted). */
  remove(tenantId: string, subject: LogSubject): Promise<void>;
  /** Deletes chunks written before `cutoff`, platform-wide (cleanup). Returns how many. */
  removeOlderThan(cutoff: Date): Promise<number>;
}
