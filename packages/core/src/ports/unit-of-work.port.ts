import type { PlatformRepositories, Repositories } from './repository.port.js';

/**
 * One transaction: `run` hands `work` repositories bound to a fresh transaction and to one
 * tenant, commits when `work` resolves and rolls everything back when it throws (the error is
 * rethrown). A conflict found at commit (a unique key, a stale version) rejects with
 * `ConflictError`.
 */
export interface UnitOfWork {
  /**
   * A unit of work inside `tenantId`: every repository is scoped to it, so no call can name
   * another tenant. A tenant id that is not a UUID matches no row (reads are empty or
   * `NotFoundError`, writes `NotFoundError`).
   */
  run<T>(tenantId: string, work: (repos: Repositories) => Promise<T>): Promise<T>;
  /**
   * A unit of work across tenants, with the same transaction semantics as `run`: only for the
   * few platform-wide paths (sign-in, registration, the outbox relay, the reconcilers,
   * maintenance). `platform.inTenant(id)` gives a tenant's repositories in the same transaction.
   */
  platform<T>(work: (platform: PlatformRepositories) => Promise<T>): Promise<T>;
}
