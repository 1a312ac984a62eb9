import type { Repositories } from './repository.port.js';

/**
 * One transaction: `run` hands `work` repositories bound to a fresh transaction, commits when
 * `work` resolves and rolls everything back when it throws (the error is rethrown). A conflict
 * found at commit (a unique key, a stale version) rejects with `ConflictError`.
 */
export interface UnitOfWork {
  run<T>(work: (repos: Repositories) => Promise<T>): Promise<T>;
}
