import { randomUUID } from 'node:crypto';
import { AuthRateLimits, createRedisClient } from '@shipyard/adapters-http';
import test from 'ava';
import type { Redis } from 'ioredis';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const prefix = `test:${randomUUID()}:rl`;
let redis: Redis;

test.before(async () => {
  redis = createRedisClient(REDIS_URL);
  await new Promise((resolve) => redis.once('ready', resolve));
});

test.after.always(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

test('on Redis, two limiters sharing a prefix share the per-IP budget (as several servers would)', async (t) => {
  const one = new AuthRateLimits({ redis, keyPrefix: prefix, requestsPerMinute: 3 });
  const two = new AuthRateLimits({ redis, keyPrefix: prefix, requestsPerMinute: 3 });
  await one.consumeIp('203.0.113.7');
  await two.consumeIp('203.0.113.7');
  await one.consumeIp('203.0.113.7');
  const error = await t.throwsAsync(two.consumeIp('203.0.113.7'), { code: 'rate_limited' });
  t.true((error as unknown as { retryAfterSeconds: number }).retryAfterSeconds >= 1);
  await t.notThrowsAsync(one.consumeIp('198.51.100.1'), 'another IP has its own budget');
});

test('on Redis, sign-in attempts past the limit lock an email and a success clears them', async (t) => {
  const limits = new AuthRateLimits({ redis, keyPrefix: `${prefix}:b`, maxFailedLogins: 3, lockoutSeconds: 60 });
  const email = `Someone-${randomUUID()}@Example.test`;
  for (let i = 0; i < 3; i += 1) t.is(await limits.beginLoginAttempt(i === 2 ? email.toLowerCase() : email), 0);
  const locked = await limits.beginLoginAttempt(email);
  t.true(locked > 0 && locked <= 60);
  await limits.clearFailedLogins(email);
  t.is(await limits.beginLoginAttempt(email), 0);
});
