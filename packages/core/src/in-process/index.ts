/**
 * The adapters a real process can run on by itself, with no server behind them: the token
 * blacklist, the database and the log store in memory, a job queue that holds jobs until they are
 * taken, and the simulated build runner and runtime (`RUNTIME=simulated`, demos). Nothing here is
 * durable: what they hold is gone when the process ends. `createCore` defaults to all but the
 * simulated ones, which only pretend and are given on purpose.
 */
export { type DrainReport, drainHeldJobs, HELD_JOB_RETRIES, HeldJobQueue, runHeldJob } from './held-job-queue.js';
export { cloneRow, InMemoryDatabase, InMemoryTransaction, type Row } from './in-memory-database.js';
export { DEFAULT_MAX_CHUNKS, InMemoryLogStore } from './in-memory-log-store.js';
export {
  createInMemoryRepositories,
  InMemoryAuditEventRepository,
  InMemoryBuildRepository,
  InMemoryOutboxRepository,
  InMemoryPlatformRepositories,
  InMemoryRefreshTokenRepository,
  InMemoryScopedRepository,
} from './in-memory-repositories.js';
export { InMemoryTokenBlacklist } from './in-memory-token-blacklist.js';
export { InMemoryUnitOfWork } from './in-memory-unit-of-work.js';
export {
  defaultBuildFailure,
  SIMULATION_HISTORY,
  SimulatedBuildRunner,
  type SimulationOptions,
} from './simulated-build-runner.js';
export { SimulatedDeploymentRuntime, type SimulatedInstance } from './simulated-deployment-runtime.js';
