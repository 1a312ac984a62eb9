/**
 * In-memory adapters for every port of the core, and a harness that wires them. They are real
 * adapters, scoped by the same tenant-isolation policy and raising the same errors as the
 * database ones; they pass the same contract suites.
 */
export { FakeCommonPasswords } from './fake-common-passwords.js';
export { FakeEncryptor } from './fake-encryptor.js';
export { FakeOAuthProvider } from './fake-oauth-provider.js';
export { FakePasswordHasher } from './fake-password-hasher.js';
export { FakeTokenIssuer } from './fake-token-issuer.js';
export { FixedClock } from './fixed-clock.js';
export { createTestHarness, type DrainReport, type HarnessOptions, type SignedUp, TestHarness } from './harness.js';
export { cloneRow, InMemoryDatabase, InMemoryTransaction, type Row } from './in-memory-database.js';
export { DEFAULT_MAX_CHUNKS, InMemoryLogStore } from './in-memory-log-store.js';
export { InMemoryMailer } from './in-memory-mailer.js';
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
export { type LogEntry, MemoryLogger } from './memory-logger.js';
export { RecordingJobQueue } from './recording-job-queue.js';
export { SequentialIdGenerator } from './sequential-id-generator.js';
export { defaultBuildFailure, SimulatedBuildRunner, type SimulationOptions } from './simulated-build-runner.js';
export { SimulatedDeploymentRuntime, type SimulatedInstance } from './simulated-deployment-runtime.js';
