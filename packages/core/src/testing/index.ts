/**
 * Fakes for the ports a test wants to control or watch (deterministic clock and ids, recorded
 * jobs, mails and logs, fast fake crypto), outage wrappers, and a harness that wires the whole
 * core on them. The in-memory adapters of `@shipyard/core/in-process` are exported here too.
 */

// Moved to `@shipyard/core/in-process` (what a real process runs on); still exported from here.
export {
  cloneRow,
  createInMemoryRepositories,
  DEFAULT_MAX_CHUNKS,
  defaultBuildFailure,
  InMemoryAuditEventRepository,
  InMemoryBuildRepository,
  InMemoryDatabase,
  InMemoryLogStore,
  InMemoryOutboxRepository,
  InMemoryPlatformRepositories,
  InMemoryRefreshTokenRepository,
  InMemoryScopedRepository,
  InMemoryTokenBlacklist,
  InMemoryTransaction,
  InMemoryUnitOfWork,
  type Row,
  SimulatedBuildRunner,
  SimulatedDeploymentRuntime,
  type SimulatedInstance,
  type SimulationOptions,
} from '../in-process/index.js';
export { FakeCommonPasswords } from './fake-common-passwords.js';
export { FakeEncryptor } from './fake-encryptor.js';
export { FakeOAuthProvider } from './fake-oauth-provider.js';
export { FakePasswordHasher } from './fake-password-hasher.js';
export { FakeTokenIssuer } from './fake-token-issuer.js';
export { FixedClock } from './fixed-clock.js';
export { createTestHarness, type DrainReport, type HarnessOptions, type SignedUp, TestHarness } from './harness.js';
export { InMemoryMailer } from './in-memory-mailer.js';
export { type LogEntry, MemoryLogger } from './memory-logger.js';
export { type Outage, type WithOutage, withBlacklistOutage, withJobQueueOutage, withOutage } from './outage.js';
export { RecordingJobQueue } from './recording-job-queue.js';
export { SequentialIdGenerator } from './sequential-id-generator.js';
