import type { Redis } from 'ioredis';
import { type RateLimiterAbstract, RateLimiterRes } from 'rate-limiter-flexible';
import { consumeOrRefuse, createLimiter } from './rate-limits.js';

export interface AccountRateLimitOptions {
  /** Shared store; without it the limits are per process, in memory. */
  redis?: Redis;
  keyPrefix?: string;
  /** Users a tenant may create per hour (`POST /users`): bounds the email oracle and the hashing. */
  userCreationsPerHour?: number;
  /** Verification mails a user may ask for per hour. */
  verificationMailsPerHour?: number;
  /** Password-reset mails per address per hour (past it, the request is answered alike and nothing is sent). */
  resetMailsPerHour?: number;
}

type Bucket = 'userCreation' | 'verificationMail' | 'resetMail';

/**
 * Budgets of the account routes, per tenant, per user or per address (the per-IP budget of
 * `AuthRateLimits` applies as well). On Redis with an in-memory insurance limiter, as the
 * sign-in limits.
 */
export class AccountRateLimits {
  private readonly limiters: Record<Bucket, RateLimiterAbstract>;

  constructor(options: AccountRateLimitOptions = {}) {
    const prefix = options.keyPrefix ?? 'shipyard:rl';
    const make = (name: string, points: number): RateLimiterAbstract =>
      createLimiter(options.redis, { keyPrefix: `${prefix}:${name}`, points, duration: 3600 });
    this.limiters = {
      userCreation: make('user-create', options.userCreationsPerHour ?? 60),
      verificationMail: make('verify-mail', options.verificationMailsPerHour ?? 5),
      resetMail: make('reset-mail', options.resetMailsPerHour ?? 5),
    };
  }

  /** Spends one of `key`'s budget in `bucket`; `RateLimitedError` (429, Retry-After) when it is spent. */
  async consume(bucket: Bucket, key: string): Promise<void> {
    await consumeOrRefuse(this.limiters[bucket], key);
  }

  /** Spends one of `key`'s budget in `bucket`; false when it is spent. */
  async tryConsume(bucket: Bucket, key: string): Promise<boolean> {
    try {
      await this.limiters[bucket].consume(key);
      return true;
    } catch (error) {
      if (error instanceof RateLimiterRes) return false;
      throw error;
    }
  }
}
