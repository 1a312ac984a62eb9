import { randomUUID } from 'node:crypto';
import { createRedisClient, RedisTokenBlacklist } from '@shipyard/adapters-http';
import { SystemClock } from '@shipyard/core';
import { FixedClock, InMemoryTokenBlacklist, withBlacklistOutage } from '@shipyard/core/testing';
import type { Redis } from 'ioredis';
import { tokenBlacklistContract } from '../contracts/token-blacklist.contract.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';

tokenBlacklistContract('in-memory', async () => {
  const clock = new FixedClock(new Date());
  const blacklist = new InMemoryTokenBlacklist(clock);
  return {
    blacklist,
    now: () => clock.now(),
    elapse: async (ms) => clock.advance(ms),
    unreachable: async () => {
      const down = withBlacklistOutage(new InMemoryTokenBlacklist(clock));
      down.outage.begin();
      return down;
    },
  };
});

tokenBlacklistContract('redis', async () => {
  const prefix = `test:${randomUUID()}:blacklist:`;
  const redis = createRedisClient(REDIS_URL);
  await redis.ping().catch(async () => {
    await new Promise((resolve) => redis.once('ready', resolve));
  });
  const clock = new SystemClock();
  const clients: Redis[] = [redis];
  return {
    blacklist: new RedisTokenBlacklist(redis, clock, prefix),
    now: () => clock.now(),
    elapse: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    unreachable: async () => {
      // Nothing listens on port 1: with the offline queue off, commands fail at once.
      const down = createRedisClient('redis://127.0.0.1:1/0', { connectTimeoutMs: 200 });
      down.on('error', () => {});
      clients.push(down);
      return new RedisTokenBlacklist(down, clock, prefix);
    },
    close: async () => {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      for (const client of clients) client.disconnect();
    },
  };
});
