import { randomBytes } from 'node:crypto';
import {
  AuthRateLimits,
  createHttpApp,
  type GitHubOAuthOptions,
  GitHubOAuthProvider,
  type HealthCheck,
  JoseTokenIssuer,
  type SigningKey,
} from '@shipyard/adapters-http';
import { createUseCases, type TokenBlacklist, type UseCases } from '@shipyard/core';
import { FixedClock, TestHarness } from '@shipyard/core/testing';
import type Koa from 'koa';
import { pino } from 'pino';
import supertest from 'supertest';

export const ISSUER = 'https://shipyard.test';
export const AUDIENCE = 'shipyard-api';

export interface TestAppOptions {
  blacklist?: TokenBlacklist;
  rateLimits?: AuthRateLimits;
  production?: boolean;
  healthChecks?: HealthCheck[];
  keys?: SigningKey[];
  /** Turns GitHub sign-in on, against these endpoints (a fake GitHub in tests). */
  github?: GitHubOAuthOptions;
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
  // The clock starts at the real time so browser-like cookie jars keep the cookies.
  readonly harness = new TestHarness({ clock: new FixedClock(new Date()) });
  readonly keys: SigningKey[];
  readonly tokens: JoseTokenIssuer;
  readonly useCases: UseCases;
  readonly app: Koa;
  readonly http: ReturnType<typeof supertest>;
  private counter = 0;

  constructor(options: TestAppOptions = {}) {
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
      healthChecks: options.healthChecks ?? [],
      oauth: { stateSecret: randomBytes(32), usedStates: this.harness.blacklist, clock: this.harness.clock },
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
