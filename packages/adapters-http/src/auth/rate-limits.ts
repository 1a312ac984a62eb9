import { normalizeEmail, RateLimitedError } from '@shipyard/core';
import type { Redis } from 'ioredis';
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';

export interface AuthRateLimitOptions {
  /** Shared store; without it the limits are per process, in memory. */
  redis?: Redis;
  keyPrefix?: string;
  /** Requests per minute per IP on the auth routes. */
  requestsPerMinute?: number;
  /** Failed logins in a row that lock an email... */
  maxFailedLogins?: number;
  /** ...for this many seconds. */
  lockoutSeconds?: number;
}

/**
 * A limiter on Redis with an in-memory insurance limiter (an outage degrades to per-process
 * limits instead of none), or in memory only without Redis.
 */
export function createLimiter(
  redis: Redis | undefined,
  options: { keyPrefix: string; points: number; duration: number },
): RateLimiterAbstract {
  return redis === undefined
    ? new RateLimiterMemory(options)
    : new RateLimiterRedis({ ...options, storeClient: redis, insuranceLimiter: new RateLimiterMemory(options) });
}

/** Spends one point of `key`; a spent budget is `RateLimitedError` (429 with `Retry-After`). */
export async function consumeOrRefuse(limiter: RateLimiterAbstract, key: string): Promise<void> {
  try {
    await limiter.consume(key);
  } catch (error) {
    if (error instanceof RateLimiterRes) {
      throw new RateLimitedError(Math.max(1, Math.ceil(error.msBeforeNext / 1000)));
    }
    throw error;
  }
}

/**
 * Brute-force protection of the auth routes: a per-IP request budget (429 with `Retry-After`)
 * and a lock after repeated failed logins, per email or, from a device that signed in to the
 * account before, per device. On Redis, with an in-memory insurance
 * limiter so an outage degrades to per-process limits instead of no limits.
 */
export class AuthRateLimits {
  private readonly perIp: RateLimiterAbstract;
  private readonly failedLogins: RateLimiterAbstract;
  private readonly failedDevices: RateLimiterAbstract;
  private readonly maxFailedLogins: number;

  constructor(options: AuthRateLimitOptions = {}) {
    const prefix = options.keyPrefix ?? 'shipyard:rl';
    const ipOptions = { keyPrefix: `${prefix}:ip`, points: options.requestsPerMinute ?? 30, duration: 60 };
    this.maxFailedLogins = options.maxFailedLogins ?? 5;
    const lockout = options.lockoutSeconds ?? 15 * 60;
    const loginOptions = { keyPrefix: `${prefix}:login`, points: this.maxFailedLogins, duration: lockout };
    this.perIp = createLimiter(options.redis, ipOptions);
    this.failedLogins = createLimiter(options.redis, loginOptions);
    this.failedDevices = createLimiter(options.redis, { ...loginOptions, keyPrefix: `${prefix}:device` });
  }

  /** Spends one request of the IP's budget; `RateLimitedError` when it is exhausted. */
  async consumeIp(ip: string): Promise<void> {
    await consumeOrRefuse(this.perIp, ip);
  }

  /**
   * Counts a sign-in attempt before its password is checked (so a burst of parallel guesses
   * cannot slip past the limit); returns the seconds the attempt stays locked, or 0 when it may
   * go on. From a known device (`device`: the id of a valid device cookie for this email) the
   * attempt counts against the device alone, so failures from elsewhere that lock the email do
   * not lock out the device; a device that fails too often is locked in turn.
   */
  async beginLoginAttempt(email: string, device: string | null = null): Promise<number> {
    const [limiter, key] = device === null ? [this.failedLogins, normalizeEmail(email)] : [this.failedDevices, device];
    try {
      await limiter.consume(key);
      return 0;
    } catch (error) {
      if (error instanceof RateLimiterRes) return Math.max(1, Math.ceil(error.msBeforeNext / 1000));
      throw error;
    }
  }

  /**
   * After a successful sign-in: clears the count the attempt was charged to. From a known device
   * that is the device's alone; the email's count (others' failures) stays.
   */
  async clearFailedLogins(email: string, device: string | null = null): Promise<void> {
    if (device === null) await this.failedLogins.delete(normalizeEmail(email));
    else await this.failedDevices.delete(device);
  }
}
