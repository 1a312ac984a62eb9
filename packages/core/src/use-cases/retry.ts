import { ConflictError } from '../domain/app.errors.js';

/**
 * Runs `attempt` again when it fails with `ConflictError` (a row changed under it), up to
 * `times` runs. Only for work that re-reads what it writes, so a retry acts on fresh state.
 */
export async function retryOnConflict<T>(attempt: () => Promise<T>, times = 5): Promise<T> {
  for (let run = 1; ; run += 1) {
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof ConflictError) || run >= times) throw error;
    }
  }
}
