import { randomBytes } from 'node:crypto';
import { openScratchDatabase, type ScratchDatabase } from '@shipyard/adapters-db/testing';
import {
  type AccountRateLimits,
  AuthRateLimits,
  BundledCommonPasswords,
  createHttpApp,
  type GitHubOAuthOptions,
  GitHubOAuthProvider,
  type HealthCheck,
  JoseTokenIssuer,
  type LogStreamOptions,
  type SigningKey,
} from '@shipyard/adapters-http';
import { createUseCases, type TokenBlacklist, type UnitOfWork, type UseCases } from '@shipyard/core';
import { FixedClock, SequentialIdGenerator, type SimulatedBuildRunner, TestHarness } from '@shipyard/core/testing';
import test from 'ava';
import type Koa from 'koa';
import { pino } from 'pino';
import supertest from 'supertest';

/**
 * `SHIPYARD_TEST_DATABASE=postgres` runs these suites on the PostgreSQL adapter (one scratch
 * database per test file, migrated, dropped afterwards) instead of the in-memory one.
 */
export const DATABASE = process.env.SHIPYARD_TEST_DATABASE === 'postgres' ? 'postgres' : 'memory';

let shared: Promise<ScratchDatabase> | undefined;
const sharedPostgres = () => {
  shared ??= openScratchDatabase({ scratch: { prefix: 'shipyard_http_test' } });
  return shared;
};
if (DATABASE === 'postgres') {
  // Tests of a file run one at a time on the shared database; jobs an earlier test left
  // unrun must not reach the next test's simulated runner.
  test.beforeEach(async () => {
    if (shared === undefined) return;
    const { database } = await shared;
    const left = await database.uow.platform((p) =>
      p.listPendingMessages(new Date('9999-01-01T00:00:00.000Z'), 10_000),
    );
    if (left.length > 0) {
      await database.uow.platform((p) =>
        p.markMessagesSent(
          left.map((m) => m.id),
          new Date(),
        ),
      );
    }
  });
  test.after.always(async () => {
    if (shared !== undefined) await (await shared).close();
  });
}
const postgresUnitOfWork: UnitOfWork = {
  run: async (tenantId, work) => (await sharedPostgres()).database.uow.run(tenantId, work),
  platform: async (work) => (await sharedPostgres()).database.uow.platform(work),
};

export const ISSUER = 'https://shipyard.test';
export const AUDIENCE = 'shipyard-api';

export interface TestAppOptions {
  blacklist?: TokenBlacklist;
  rateLimits?: AuthRateLimits;
  accountLimits?: AccountRateLimits;
  production?: boolean;
  healthChecks?: HealthCheck[];
  keys?: SigningKey[];
  /** Turns GitHub sign-in on, against these endpoints (a fake GitHub in tests). */
  github?: GitHubOAuthOptions;
  /** Another simulated build runner (e.g. one whose infrastructure fails). */
  buildRunner?: SimulatedBuildRunner;
  /** How log streams follow (tests poll every 20 ms unless told otherwise). */
  logStream?: LogStreamOptions;
}

export interface SignedIn {
  token: string;
  refreshToken: string;
  userId: string;
  tenantId: string;
  email: string;
}

/**
 * The HTTP app on the core's in-memory adapters, with the real JWT issuer (jose), a fixed
 * clock, and jobs run by `harness.drain()`. Requests go through `app.callback()`: no port.
 */
export class TestApp {
  readonly harness: TestHarness;
  readonly keys: SigningKey[];
  readonly tokens: JoseTokenIssuer;
  readonly useCases: UseCases;
  readonly app: Koa;
  readonly http: ReturnType<typeof supertest>;
  private counter = 0;

  constructor(options: TestAppOptions = {}) {
    this.harness = new TestHarness({
      // The clock starts at the real time so browser-like cookie jars keep the cookies.
      clock: new FixedClock(new Date()),
      // Apps of one test file share a database in the PostgreSQL run: their ids must not collide.
      ids: new SequentialIdGenerator(randomBytes(4).toString('hex')),
      ...(options.buildRunner === undefined ? {} : { buildRunner: options.buildRunner }),
      ...(DATABASE === 'postgres' ? { uow: postgresUnitOfWork } : {}),
      // The server's list, not the harness' short one.
      commonPasswords: new BundledCommonPasswords(),
    });
    this.keys = options.keys ?? [{ id: 'k1', secret: randomBytes(32) }];
    this.tokens = new JoseTokenIssuer({
      keys: this.keys,
      issuer: ISSUER,
      audience: AUDIENCE,
      accessTokenTtlSeconds: 900,
      refreshTokenTtlSeconds: 7 * 86_400,
      clock: this.harness.clock,
      ids: this.harness.ids,
    });
    this.useCases = createUseCases({
      ...this.harness.deps,
      tokens: this.tokens,
      blacklist: options.blacklist ?? this.harness.blacklist,
      oauthProviders: options.github === undefined ? {} : { github: new GitHubOAuthProvider(options.github) },
    });
    this.app = createHttpApp({
      useCases: this.useCases,
      logger: pino({ level: 'silent' }),
      publicUrl: 'http://localhost:3000',
      frontendUrl: 'http://localhost:5173',
      production: options.production ?? false,
      rateLimits: options.rateLimits ?? new AuthRateLimits({ requestsPerMinute: 100_000 }),
      ...(options.accountLimits === undefined ? {} : { accountLimits: options.accountLimits }),
      healthChecks: options.healthChecks ?? [],
      oauth: { stateSecret: randomBytes(32), usedStates: this.harness.blacklist, clock: this.harness.clock },
      logStream: { pollIntervalMs: 20, ...options.logStream },
    });
    this.http = supertest(this.app.callback());
  }

  private unique(): string {
    this.counter += 1;
    return `${this.counter}-${randomBytes(3).toString('hex')}`;
  }

  /** Registers a new tenant through the API; returns its owner's tokens. */
  async register(): Promise<SignedIn> {
    const email = `owner-${this.unique()}@example.test`;
    const res = await this.http
      .post('/api/v1/auth/register')
      .send({ tenant_name: `Tenant ${this.unique()}`, email, password: 'correct horse battery' })
      .expect(201);
    return {
      token: res.body.access_token,
      refreshToken: res.body.refresh_token,
      userId: res.body.user.id,
      tenantId: res.body.tenant.id,
      email,
    };
  }

  /** Follows the newest verification link mailed to `email`, over HTTP. */
  async verifyEmail(email: string): Promise<void> {
    const token = this.harness.mailer.lastToken(email);
    if (token === undefined) throw new Error(`no mail to ${email}`);
    await this.http.post('/api/v1/auth/verify-email').send({ token }).expect(204);
  }

  /** Adds a user with `role` to the owner's tenant and signs them in. */
  async userWithRole(owner: SignedIn, role: 'viewer' | 'member' | 'admin' | 'owner'): Promise<SignedIn> {
    const email = `${role}-${this.unique()}@example.test`;
    const created = await this.http
      .post('/api/v1/users')
      .set('Authorization', `Bearer ${owner.token}`)
      .send({ email, password: 'correct horse battery', role })
      .expect(201);
    const res = await this.http
      .post('/api/v1/auth/login')
      .send({ email, password: 'correct horse battery' })
      .expect(200);
    return {
      token: res.body.access_token,
      refreshToken: res.body.refresh_token,
      userId: created.body.id,
      tenantId: owner.tenantId,
      email,
    };
  }
}

export const bearer = (who: { token: string }) => ({ Authorization: `Bearer ${who.token}` });
