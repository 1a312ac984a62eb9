import { ConflictError } from '../domain/app.errors.js';

/** A write lost to a concurrent one (optimistic locking), as opposed to a taken unique key. */
export const isStaleWrite = (error: unknown): boolean =>
  error instanceof ConflictError && (error.details as { reason?: unknown } | null)?.reason === 'stale_version';

/**
 * Runs `attempt` again when it lost a write to a concurrent one (a stale version), up to
 * `times` runs. Only for work that re-reads what it writes, so a retry acts on fresh state; any
 * other error, a taken unique key included, is thrown at once.
 */
export async function retryOnConflict<T>(attempt: () => Promise<T>, times = 5): Promise<T> {
  for (let run = 1; ; run += 1) {
    try {
      return await attempt();
    } catch (error) {
      if (!isStaleWrite(error) || run >= times) throw error;
    }
  }
}
