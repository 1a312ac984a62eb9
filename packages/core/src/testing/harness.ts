import type { Job } from '../domain/job.types.js';
import type { Principal, Role } from '../domain/role.js';
import type { Tenant } from '../domain/tenant.entity.js';
import { type DrainReport, drainHeldJobs, runHeldJob } from '../in-process/held-job-queue.js';
import { InMemoryDatabase } from '../in-process/in-memory-database.js';
import { InMemoryLogStore } from '../in-process/in-memory-log-store.js';
import { InMemoryTokenBlacklist } from '../in-process/in-memory-token-blacklist.js';
import { InMemoryUnitOfWork } from '../in-process/in-memory-unit-of-work.js';
import { SimulatedBuildRunner } from '../in-process/simulated-build-runner.js';
import { SimulatedDeploymentRuntime } from '../in-process/simulated-deployment-runtime.js';
import { JobHandlers } from '../jobs/job-handlers.js';
import type { CommonPasswords } from '../ports/common-passwords.port.js';
import type { LogStore } from '../ports/log-store.port.js';
import type { UnitOfWork } from '../ports/unit-of-work.port.js';
import { CryptoSecretGenerator } from '../system/crypto-secret-generator.js';
import type { CoreDeps } from '../use-cases/core-deps.js';
import { type CoreSettings, DEFAULT_SETTINGS } from '../use-cases/core-settings.js';
import { createUseCases, type UseCases } from '../use-cases/create-use-cases.js';
import type { AuthSession } from '../use-cases/session.js';
import { FakeCommonPasswords } from './fake-common-passwords.js';
import { FakeEncryptor } from './fake-encryptor.js';
import { FakePasswordHasher } from './fake-password-hasher.js';
import { FakeTokenIssuer } from './fake-token-issuer.js';
import { FixedClock } from './fixed-clock.js';
import { InMemoryMailer } from './in-memory-mailer.js';
import { MemoryLogger } from './memory-logger.js';
import { type WithOutage, withBlacklistOutage, withJobQueueOutage } from './outage.js';
import { RecordingJobQueue } from './recording-job-queue.js';
import { SequentialIdGenerator } from './sequential-id-generator.js';

export type { DrainReport } from '../in-process/held-job-queue.js';

export interface HarnessOptions {
  clock?: FixedClock;
  ids?: SequentialIdGenerator;
  buildRunner?: SimulatedBuildRunner;
  runtime?: SimulatedDeploymentRuntime;
  settings?: Partial<CoreSettings>;
  oauthProviders?: CoreDeps['oauthProviders'];
  /** Another unit of work (a database adapter's) in place of the in-memory one. */
  uow?: UnitOfWork;
  /** Another log store (a database adapter's) in place of the in-memory one. */
  logStore?: LogStore;
  /** Another list of common passwords (the server's bundled one) in place of the short one. */
  commonPasswords?: CommonPasswords;
}

export interface SignedUp {
  principal: Principal;
  session: AuthSession;
  tenant: Tenant;
}

/**
 * The whole core on in-memory adapters: deterministic clock and ids, a recording queue, and a
 * simulated build runner and runtime. `drain()` plays the worker: it relays the outbox and runs
 * queued jobs (with the platform's 3 retries) until nothing is left. The blacklist and the queue
 * can be made unreachable: `harness.blacklist.outage.begin()`, `harness.jobs.outage.begin()`.
 */
export class TestHarness {
  /** The in-memory store (unused when `options.uow` replaced it). */
  readonly db = new InMemoryDatabase();
  readonly uow: UnitOfWork;
  readonly clock: FixedClock;
  readonly ids: SequentialIdGenerator;
  readonly passwords = new FakePasswordHasher();
  readonly tokens: FakeTokenIssuer;
  readonly blacklist: WithOutage<InMemoryTokenBlacklist>;
  readonly encryptor = new FakeEncryptor();
  readonly jobs: WithOutage<RecordingJobQueue> = withJobQueueOutage(new RecordingJobQueue());
  readonly buildRunner: SimulatedBuildRunner;
  readonly runtime: SimulatedDeploymentRuntime;
  readonly logStore: LogStore;
  readonly logger = new MemoryLogger();
  /** Every verification, reset and invitation mail, for tests to follow the links. */
  readonly mailer = new InMemoryMailer();
  readonly deps: CoreDeps;
  readonly useCases: UseCases;
  readonly handlers: JobHandlers;
  static readonly MAX_RETRIES = 3;

  constructor(options: HarnessOptions = {}) {
    this.uow = options.uow ?? new InMemoryUnitOfWork(this.db);
    this.clock = options.clock ?? new FixedClock();
    this.ids = options.ids ?? new SequentialIdGenerator();
    this.tokens = new FakeTokenIssuer(this.clock, this.ids);
    this.blacklist = withBlacklistOutage(new InMemoryTokenBlacklist(this.clock));
    this.buildRunner = options.buildRunner ?? new SimulatedBuildRunner();
    this.runtime = options.runtime ?? new SimulatedDeploymentRuntime();
    this.logStore = options.logStore ?? new InMemoryLogStore(this.clock);
    this.deps = {
      uow: this.uow,
      clock: this.clock,
      ids: this.ids,
      passwords: this.passwords,
      commonPasswords: options.commonPasswords ?? new FakeCommonPasswords(),
      tokens: this.tokens,
      blacklist: this.blacklist,
      encryptor: this.encryptor,
      jobs: this.jobs,
      buildRunner: this.buildRunner,
      runtime: this.runtime,
      logStore: this.logStore,
      logger: this.logger,
      mailer: this.mailer,
      secrets: new CryptoSecretGenerator(),
      // No polling timers in tests: cancellation is seen when the build finishes.
      settings: { ...DEFAULT_SETTINGS, cancelCheckIntervalMs: 0, ...options.settings },
      oauthProviders: options.oauthProviders ?? {},
    };
    this.useCases = createUseCases(this.deps);
    this.handlers = new JobHandlers(this.useCases);
  }

  /** Relays the outbox and runs every queued job until the queue is empty. */
  drain(): Promise<DrainReport> {
    return drainHeldJobs(this, this.jobs, TestHarness.MAX_RETRIES);
  }

  /** Runs one job as a worker would: retried on infrastructure errors, failed at once on bad payloads. */
  runJob(job: Job, report: DrainReport = { runs: 0, gaveUp: [] }): Promise<void> {
    return runHeldJob(this.handlers, job, report, TestHarness.MAX_RETRIES);
  }

  /** Registers a tenant and its owner. */
  async signUp(input: { tenantName?: string; email?: string; password?: string } = {}): Promise<SignedUp> {
    const n = this.ids.next().slice(-6);
    const session = await this.useCases.register.execute({
      tenantName: input.tenantName ?? `Tenant ${n}`,
      email: input.email ?? `owner-${n}@example.test`,
      password: input.password ?? 'correct horse battery',
    });
    const { user, tenant } = session;
    return { principal: { userId: user.id, tenantId: tenant.id, role: user.role }, session, tenant };
  }

  /** Follows the newest verification link mailed to `email`. */
  async verifyEmail(email: string): Promise<void> {
    const token = this.mailer.lastToken(email);
    if (token === undefined) throw new Error(`no mail to ${email}`);
    await this.useCases.verifyEmail.execute(token);
  }

  /** Adds a user with `role` to the actor's tenant and returns them as a principal. */
  async addUser(actor: Principal, role: Role, email?: string): Promise<Principal> {
    const user = await this.useCases.createUser.execute(actor.role === 'owner' ? actor : { ...actor, role: 'owner' }, {
      email: email ?? `${role}-${this.ids.next().slice(-6)}@example.test`,
      password: 'correct horse battery',
      role,
    });
    return { userId: user.id, tenantId: user.tenantId, role: user.role };
  }
}

export const createTestHarness = (options?: HarnessOptions): TestHarness => new TestHarness(options);
