import { type DrainReport, drainHeldJobs, HeldJobQueue } from './in-process/held-job-queue.js';
import { InMemoryLogStore } from './in-process/in-memory-log-store.js';
import { InMemoryTokenBlacklist } from './in-process/in-memory-token-blacklist.js';
import { InMemoryUnitOfWork } from './in-process/in-memory-unit-of-work.js';
import { JobHandlers } from './jobs/job-handlers.js';
import type { BuildRunner } from './ports/build-runner.port.js';
import type { Clock } from './ports/clock.port.js';
import type { CommonPasswords } from './ports/common-passwords.port.js';
import type { DeploymentRuntime } from './ports/deployment-runtime.port.js';
import type { Encryptor } from './ports/encryptor.port.js';
import type { IdGenerator } from './ports/id-generator.port.js';
import type { JobQueue } from './ports/job-queue.port.js';
import type { LogStore } from './ports/log-store.port.js';
import type { Logger } from './ports/logger.port.js';
import type { Mailer } from './ports/mailer.port.js';
import type { PasswordHasher } from './ports/password-hasher.port.js';
import type { SecretGenerator } from './ports/secret-generator.port.js';
import type { TokenBlacklist } from './ports/token-blacklist.port.js';
import type { TokenIssuer } from './ports/token-issuer.port.js';
import type { UnitOfWork } from './ports/unit-of-work.port.js';
import { AesGcmEncryptor, type EncryptionKey } from './system/aes-gcm-encryptor.js';
import { CryptoSecretGenerator } from './system/crypto-secret-generator.js';
import { LogMailer } from './system/log-mailer.js';
import { RandomIdGenerator } from './system/random-id-generator.js';
import { SilentLogger } from './system/silent-logger.js';
import { SystemClock } from './system/system-clock.js';
import type { CoreDeps } from './use-cases/core-deps.js';
import { type CoreSettings, DEFAULT_SETTINGS } from './use-cases/core-settings.js';
import { createUseCases, type UseCases } from './use-cases/create-use-cases.js';

/** What only the embedder can give, and what it may give in place of a default. */
export interface CreateCoreBaseOptions {
  /**
   * Signs and verifies session tokens (`JoseTokenIssuer` of `@shipyard/adapters-http`, or your
   * own). A function is given the clock and ids the core runs on.
   */
  tokens: TokenIssuer | ((ports: Pick<CoreDeps, 'clock' | 'ids'>) => TokenIssuer);
  /** Hashes passwords (`Argon2PasswordHasher` of `@shipyard/adapters-http`, or your own). */
  passwords: PasswordHasher;
  /**
   * The passwords refused however long they are. There is no default: the core ships no list
   * worth the name (the server's is `BundledCommonPasswords` of `@shipyard/adapters-http`, about
   * 50 000 entries); give that one, or one of your own.
   */
  commonPasswords: CommonPasswords;
  /** Builds what a service's repository holds (`SimulatedBuildRunner` of `@shipyard/core/in-process` pretends). */
  buildRunner: BuildRunner;
  /** Runs what was built (`SimulatedDeploymentRuntime` of `@shipyard/core/in-process` pretends). */
  runtime: DeploymentRuntime;
  /** Default: `InMemoryUnitOfWork` on a fresh database, gone when the process ends. */
  uow?: UnitOfWork;
  /**
   * Default: a `HeldJobQueue`, whose jobs `drain()` runs. A function is given the handlers (as a
   * function, since they are built after the queue), for a queue that runs them itself, e.g.
   * `(handlers) => new InProcessJobQueue({ handlers })` of `@shipyard/adapters-queue`.
   */
  jobs?: JobQueue | ((handlers: () => JobHandlers) => JobQueue);
  /** Default: `InMemoryLogStore` (the newest chunks of each build and deployment, in memory). */
  logStore?: LogStore;
  /** Default: `SystemClock`. */
  clock?: Clock;
  /** Default: `RandomIdGenerator` (UUID v4). */
  ids?: IdGenerator;
  /** Default: `InMemoryTokenBlacklist` (revocations are forgotten when the process ends). */
  blacklist?: TokenBlacklist;
  /** Default: `SilentLogger`. */
  logger?: Logger;
  /** Default: `LogMailer` on `logger` (links go to the log: they are secrets, so not for production). */
  mailer?: Mailer;
  /** Default: `CryptoSecretGenerator`. */
  secrets?: SecretGenerator;
  /** Merged over `DEFAULT_SETTINGS`. */
  settings?: Partial<CoreSettings>;
  /** Default: none (OAuth sign-in answers `not_found`). */
  oauthProviders?: CoreDeps['oauthProviders'];
}

/**
 * How secrets at rest are encrypted: keys for the default `AesGcmEncryptor` (the first encrypts,
 * all decrypt: 32 random bytes each, kept out of the database), or an encryptor of your own.
 */
export type CreateCoreEncryption =
  | { encryptionKeys: readonly EncryptionKey[]; encryptor?: never }
  | { encryptor: Encryptor; encryptionKeys?: never };

export type CreateCoreOptions = CreateCoreBaseOptions & CreateCoreEncryption;

export interface Core {
  deps: CoreDeps;
  useCases: UseCases;
  /** Routes queued jobs to the use cases: what a queue's worker calls. */
  handlers: JobHandlers;
  /**
   * Plays the worker in this process: relays the outbox and, on a `HeldJobQueue` (the default),
   * runs every job it holds (3 retries, then `giveUp`) until nothing is left. With another queue,
   * which runs its jobs itself, it only relays the outbox once (up to 1000 messages).
   */
  drain(): Promise<DrainReport>;
}

/**
 * The core with every port wired: the embedder gives what only it can (token issuer, password
 * hasher, common passwords, encryption keys, build runner and runtime) and the rest has an
 * in-process default (see each option). The defaults keep nothing across a restart: give a
 * database adapter's `uow` and a queue adapter's `jobs` for data and jobs that must survive.
 */
export function createCore(options: CreateCoreOptions): Core {
  const clock = options.clock ?? new SystemClock();
  const ids = options.ids ?? new RandomIdGenerator();
  const logger = options.logger ?? new SilentLogger();
  let handlers: JobHandlers | undefined;
  const getHandlers = (): JobHandlers => {
    if (handlers === undefined) throw new Error('createCore: the job handlers are not built yet');
    return handlers;
  };
  const jobs =
    options.jobs === undefined
      ? new HeldJobQueue()
      : typeof options.jobs === 'function'
        ? options.jobs(getHandlers)
        : options.jobs;
  const deps: CoreDeps = {
    uow: options.uow ?? new InMemoryUnitOfWork(),
    clock,
    ids,
    passwords: options.passwords,
    commonPasswords: options.commonPasswords,
    tokens: typeof options.tokens === 'function' ? options.tokens({ clock, ids }) : options.tokens,
    blacklist: options.blacklist ?? new InMemoryTokenBlacklist(clock),
    encryptor: options.encryptor ?? new AesGcmEncryptor(options.encryptionKeys ?? []),
    jobs,
    buildRunner: options.buildRunner,
    runtime: options.runtime,
    logStore: options.logStore ?? new InMemoryLogStore(clock),
    logger,
    mailer: options.mailer ?? new LogMailer(logger),
    secrets: options.secrets ?? new CryptoSecretGenerator(),
    settings: { ...DEFAULT_SETTINGS, ...options.settings },
    oauthProviders: options.oauthProviders ?? {},
  };
  const useCases = createUseCases(deps);
  handlers = new JobHandlers(useCases);
  const core: Core = {
    deps,
    useCases,
    handlers,
    drain: async () => {
      if (jobs instanceof HeldJobQueue) return drainHeldJobs(core, jobs);
      await useCases.relayOutbox.execute({ batchSize: 1000 });
      return { runs: 0, gaveUp: [] };
    },
  };
  return core;
}
