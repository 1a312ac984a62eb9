import { type Clock, ServiceUnavailableError, type TokenBlacklist } from '@shipyard/core';
import type { Redis } from 'ioredis';

/**
 * Revoked access-token ids in Redis, each key expiring with its token. Any Redis failure
 * (down, slow past the client's `commandTimeout`, offline queue refused) rejects with
 * `ServiceUnavailableError`: a token is never let through unchecked. The client should be
 * created with `enableOfflineQueue: false` and a `commandTimeout` (see `createRedisClient`).
 */
export class RedisTokenBlacklist implements TokenBlacklist {
  constructor(
    private readonly redis: Redis,
    private readonly clock: Clock,
    private readonly prefix = 'shipyard:blacklist:',
  ) {}

  async add(tokenId: string, expiresAt: Date): Promise<void> {
    const ttlMs = expiresAt.getTime() - this.clock.now().getTime();
    if (ttlMs <= 0) return;
    try {
      await this.redis.set(this.prefix + tokenId, '1', 'PX', ttlMs);
    } catch (error) {
      throw new ServiceUnavailableError('The token blacklist is unavailable', { cause: error });
    }
  }

  async hasAny(tokenIds: readonly string[]): Promise<boolean> {
    if (tokenIds.length === 0) return false;
    try {
      // One EXISTS of every key: one round trip, however many ids.
      return (await this.redis.exists(tokenIds.map((id) => this.prefix + id))) > 0;
    } catch (error) {
      throw new ServiceUnavailableError('The token blacklist is unavailable', { cause: error });
    }
  }
}
