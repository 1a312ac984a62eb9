import { type Clock, type IdGenerator, type Logger, LogMailer, TOKENS } from '@shipyard/core';
import { InMemoryTokenBlacklist } from '@shipyard/core/in-process';
import { ContainerModule } from 'inversify';
import type { Redis } from 'ioredis';
import { AccountRateLimits } from './auth/account-limits.js';
import { Argon2PasswordHasher } from './auth/argon2-password-hasher.js';
import { BundledCommonPasswords } from './auth/bundled-common-passwords.js';
import { JoseTokenIssuer, type SigningKey } from './auth/jose-token-issuer.js';
import { AuthRateLimits } from './auth/rate-limits.js';
import { RedisTokenBlacklist } from './auth/redis-token-blacklist.js';
import { SmtpMailer, type SmtpMailerOptions } from './mail/smtp-mailer.js';

/** Tokens of what this adapter adds beyond the core's ports. */
export const HTTP_TOKENS = {
  AuthRateLimits: Symbol.for('shipyard.http.AuthRateLimits'),
  AccountRateLimits: Symbol.for('shipyard.http.AccountRateLimits'),
} as const;

export interface HttpModuleOptions {
  jwt: {
    keys: readonly SigningKey[];
    issuer: string;
    audience: string;
    accessTtlSeconds: number;
    refreshTtlSeconds: number;
  };
  /** Redis for the blacklist and the rate limits (create it with `createRedisClient`); omitted: in process. */
  redis?: Redis;
  keyPrefix?: string;
  /** SMTP for the account mails; omitted: they are written to the log (`LogMailer`). */
  smtp?: SmtpMailerOptions;
}

/**
 * Binds the ports this adapter implements: `TokenIssuer` (jose), `PasswordHasher` (argon2id),
 * `CommonPasswords` (the zxcvbn-ts list), `TokenBlacklist` (Redis, or in process without Redis), `Mailer` (SMTP, or the log), and the
 * auth and account rate limits.
 */
export const httpModule = (options: HttpModuleOptions): ContainerModule =>
  new ContainerModule(({ bind }) => {
    const prefix = options.keyPrefix ?? 'shipyard';
    bind(TOKENS.TokenIssuer)
      .toResolvedValue(
        (clock: Clock, ids: IdGenerator) =>
          new JoseTokenIssuer({
            keys: options.jwt.keys,
            issuer: options.jwt.issuer,
            audience: options.jwt.audience,
            accessTokenTtlSeconds: options.jwt.accessTtlSeconds,
            refreshTokenTtlSeconds: options.jwt.refreshTtlSeconds,
            clock,
            ids,
          }),
        [TOKENS.Clock, TOKENS.IdGenerator],
      )
      .inSingletonScope();
    bind(TOKENS.PasswordHasher).toConstantValue(new Argon2PasswordHasher());
    bind(TOKENS.CommonPasswords).toConstantValue(new BundledCommonPasswords());
    bind(TOKENS.TokenBlacklist)
      .toResolvedValue(
        (clock: Clock) =>
          options.redis === undefined
            ? new InMemoryTokenBlacklist(clock)
            : new RedisTokenBlacklist(options.redis, clock, `${prefix}:blacklist:`),
        [TOKENS.Clock],
      )
      .inSingletonScope();
    const smtp = options.smtp;
    bind(TOKENS.Mailer)
      .toResolvedValue(
        (logger: Logger) =>
          smtp === undefined ? new LogMailer(logger.child({ component: 'mail' })) : new SmtpMailer(smtp),
        [TOKENS.Logger],
      )
      .inSingletonScope();
    bind(HTTP_TOKENS.AccountRateLimits).toConstantValue(
      new AccountRateLimits({
        ...(options.redis === undefined ? {} : { redis: options.redis }),
        keyPrefix: `${prefix}:rl`,
      }),
    );
    bind(HTTP_TOKENS.AuthRateLimits).toConstantValue(
      new AuthRateLimits({
        ...(options.redis === undefined ? {} : { redis: options.redis }),
        keyPrefix: `${prefix}:rl`,
      }),
    );
  });
