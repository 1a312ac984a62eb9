import type { MikroORM } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/postgresql';
import {
  type Clock,
  isUuid,
  type LogChunk,
  type LogReadOptions,
  type LogStore,
  type LogSubject,
  ValidationError,
} from '@shipyard/core';
import { translateError } from './driver-errors.js';
import { LOG_SUBJECT_KINDS, LogChunkRow } from './schemas/log-chunk.schema.js';
import { withTenant } from './tenant-session.js';

/** Chunks kept per subject, as the in-memory store keeps them. */
export const LOG_CHUNKS_KEPT = 64;
/** Most UTF-8 bytes in one chunk's body: a longer append is written as several chunks. */
export const MAX_CHUNK_BYTES = 64 * 1024;
/** Most UTF-8 bytes of one line; a longer line is cut there and ends with `TRUNCATED_MARK`. */
export const MAX_LINE_BYTES = 8 * 1024;
export const TRUNCATED_MARK = ' […line truncated]';

export interface LogStoreOptions {
  /** The time of each chunk (`at`, and what `removeOlderThan` compares). Default: the system clock. */
  clock?: Clock;
  /** Chunks kept per subject (default 64): each append deletes the older ones. */
  maxChunks?: number;
}

type Subject = { tenantId: string; subjectKind: LogSubject['kind']; subjectId: string };

const MARK_BYTES = Buffer.byteLength(TRUNCATED_MARK);
// An int8 that PostgreSQL takes: at most 19 digits (the rest of the range is checked as a BigInt).
const CURSOR = /^[0-9]{1,19}$/;
const MAX_INT8 = 2n ** 63n - 1n;

/** `line` as stored: PostgreSQL text holds no NUL, and a very long line is cut at a character boundary. */
function storedLine(line: string): string {
  const clean = line.includes('\u0000') ? line.replaceAll('\u0000', '\uFFFD') : line;
  // A UTF-16 unit is at most 3 UTF-8 bytes: most lines need no measuring.
  if (clean.length * 3 <= MAX_LINE_BYTES || Buffer.byteLength(clean) <= MAX_LINE_BYTES) return clean;
  const bytes = Buffer.from(clean);
  let end = MAX_LINE_BYTES - MARK_BYTES;
  while (end > 0 && ((bytes[end] as number) & 0xc0) === 0x80) end -= 1;
  return `${bytes.subarray(0, end).toString('utf8')}${TRUNCATED_MARK}`;
}

/** The stored lines split into chunk bodies of at most MAX_CHUNK_BYTES (a line never spans two). */
function chunkBodies(lines: readonly string[]): { body: string; lineCount: number }[] {
  const chunks: { body: string; lineCount: number }[] = [];
  let current: string[] = [];
  let size = 0;
  for (const raw of lines) {
    // A line is what has no `\n`: the body joins lines with it.
    for (const part of String(raw).split('\n')) {
      const line = storedLine(part);
      const bytes = Buffer.byteLength(line);
      if (current.length > 0 && size + 1 + bytes > MAX_CHUNK_BYTES) {
        chunks.push({ body: current.join('\n'), lineCount: current.length });
        current = [];
        size = 0;
      }
      size += (current.length > 0 ? 1 : 0) + bytes;
      current.push(line);
    }
  }
  if (current.length > 0) chunks.push({ body: current.join('\n'), lineCount: current.length });
  return chunks;
}

/** The chunk id a cursor names; 0 (from the start) for none, or for one this store never gave. */
function cursorId(after: string | null | undefined): string {
  if (typeof after !== 'string' || !CURSOR.test(after)) return '0';
  return BigInt(after) > MAX_INT8 ? '0' : after;
}

/**
 * The `LogStore` on the database's `log_chunks` table, through the ORM's query API: every call
 * is its own short statement (two for an append) on a fresh EntityManager fork, outside any unit
 * of work, so writing output never holds a transaction open.
 *
 * - A chunk's cursor is its id (a bigserial) as a decimal string; `read` returns the chunks with
 *   a greater id, oldest first. A cursor this store cannot have given (not a decimal integer) is
 *   read as "from the start", as the in-memory store reads it.
 * - Each append keeps only the newest `maxChunks` chunks of its subject (an index-backed delete).
 * - Lines are stored as PostgreSQL text: NUL becomes U+FFFD, a line holding `\n` comes back as
 *   several lines, a line over 8 KB is cut (ending with `TRUNCATED_MARK`), and an append of more
 *   than 64 KB is written as several chunks.
 * - Tenant and subject ids that are not UUIDs match nothing (`read` is empty); `append` refuses
 *   them with `ValidationError`. A tenant that does not exist is `NotFoundError`.
 *
 * On PGlite the store takes turns on the engine's one session with the units of work: append
 * outside a unit that has written, or the append waits for that unit's commit.
 */
export class MikroOrmLogStore implements LogStore {
  private readonly clock: Clock;
  private readonly maxChunks: number;

  constructor(
    private readonly orm: MikroORM,
    options: LogStoreOptions = {},
  ) {
    this.clock = options.clock ?? { now: () => new Date() };
    this.maxChunks = Math.max(1, Math.floor(options.maxChunks ?? LOG_CHUNKS_KEPT));
  }

  async append(tenantId: string, subject: LogSubject, lines: readonly string[]): Promise<void> {
    if (lines.length === 0) return;
    const where = subjectOf(tenantId, subject);
    if (where === null) {
      throw ValidationError.field('subject', 'must be a build or a deployment id (a UUID) of a tenant id (a UUID)');
    }
    const createdAt = this.clock.now();
    const rows = chunkBodies(lines).map((chunk) => ({ ...where, ...chunk, createdAt }));
    await this.guard(where.tenantId, async (em) => {
      if (rows.length === 1) await em.insert(LogChunkRow, rows[0] as LogChunkRow);
      else await em.insertMany(LogChunkRow, rows as LogChunkRow[]);
      await this.trim(em, where);
    });
  }

  async read(tenantId: string, subject: LogSubject, options: LogReadOptions = {}): Promise<LogChunk[]> {
    const where = subjectOf(tenantId, subject);
    const limit = options.limit === undefined ? undefined : Math.floor(options.limit);
    if (where === null || (limit !== undefined && !(limit > 0))) return [];
    const rows = await this.guard(where.tenantId, (em) =>
      em.find(
        LogChunkRow,
        { ...where, id: { $gt: cursorId(options.after) } },
        {
          fields: ['id', 'body', 'lineCount', 'createdAt'],
          orderBy: { id: 'asc' },
          ...(limit === undefined ? {} : { limit }),
          disableIdentityMap: true,
        },
      ),
    );
    return rows.map((row) => ({
      cursor: String(row.id),
      lines: row.body.split('\n'),
      at: row.createdAt,
    }));
  }

  async remove(tenantId: string, subject: LogSubject): Promise<void> {
    const where = subjectOf(tenantId, subject);
    if (where === null) return;
    await this.guard(where.tenantId, (em) => em.nativeDelete(LogChunkRow, where));
  }

  /** Across tenants: through the platform function the row-level security migration made. */
  async removeOlderThan(cutoff: Date): Promise<number> {
    const rows = await this.guard('', (em) =>
      em.execute<{ removed: number }[]>('select shipyard_prune_log_chunks(?) as "removed"', [cutoff]),
    );
    return rows[0]?.removed ?? 0;
  }

  /**
   * Deletes the subject's chunks older than its newest `maxChunks`, in one statement whose
   * subquery walks the subject's index from its newest entry: cheap however long the log grew.
   */
  private async trim(em: SqlEntityManager, where: Subject): Promise<void> {
    const boundary = em
      .createQueryBuilder(LogChunkRow)
      .select('id')
      .where(where)
      .orderBy({ id: 'desc' })
      .offset(this.maxChunks - 1)
      .limit(1);
    await em
      .createQueryBuilder(LogChunkRow)
      .delete({ ...where, id: { $lt: boundary.getKnexQuery() } })
      .execute();
  }

  /**
   * A statement on a fresh fork (no unit of work, no identity map shared) on a connection given
   * `tenantId` (row-level security), errors made the core's.
   */
  private async guard<T>(tenantId: string, operation: (em: SqlEntityManager) => Promise<T>): Promise<T> {
    try {
      // Both drivers (PostgreSQL and PGlite's) are SQL drivers.
      return await withTenant(tenantId, () => operation(this.orm.em.fork({ clear: true }) as SqlEntityManager));
    } catch (error) {
      throw translateError(error);
    }
  }
}

/** The row condition of a subject in a tenant, or null when the ids cannot match any row. */
function subjectOf(tenantId: string, subject: LogSubject): Subject | null {
  if (!isUuid(tenantId) || !isUuid(subject?.id) || !LOG_SUBJECT_KINDS.includes(subject.kind)) return null;
  return { tenantId: tenantId.toLowerCase(), subjectKind: subject.kind, subjectId: subject.id.toLowerCase() };
}
