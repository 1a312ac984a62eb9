import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { ConfigError, loadConfig, parseDuration } from './config.js';

const secret = 'x'.repeat(40);
const key = Buffer.alloc(32, 7).toString('base64');

test('durations read seconds, minutes, hours and days', (t) => {
  t.is(parseDuration('900'), 900);
  t.is(parseDuration('15m'), 900);
  t.is(parseDuration('12h'), 43_200);
  t.is(parseDuration('7d'), 604_800);
  t.is(parseDuration('0'), null);
  t.is(parseDuration('soon'), null);
});

test('defaults follow the documented table', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'shipyard-config-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const config = loadConfig({ DATA_DIR: dir });
  t.is(config.port, 3000);
  t.is(config.host, '0.0.0.0');
  t.is(config.publicUrl, 'http://localhost:3000');
  t.is(config.jwt.accessTtlSeconds, 900);
  t.is(config.jwt.refreshTtlSeconds, 604_800);
  t.is(config.databaseUrl, undefined);
  t.is(config.redisUrl, undefined);
  t.is(config.github, undefined);
  t.deepEqual(config.corsOrigins, []);
  t.is(config.warnings.length, 2);
  const again = loadConfig({ DATA_DIR: dir });
  t.deepEqual(again.jwt.keys, config.jwt.keys, 'development secrets survive a restart');
});

test('production needs its secrets, and they must be strong enough', (t) => {
  const error = t.throws(() => loadConfig({ NODE_ENV: 'production' }), { instanceOf: ConfigError });
  t.regex(error?.message ?? '', /JWT_SECRET/);
  t.regex(error?.message ?? '', /ENCRYPTION_KEYS/);
  t.throws(() => loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'short', ENCRYPTION_KEYS: `k1:${key}` }), {
    message: /JWT_SECRET: must be at least 32 bytes/,
  });
  t.throws(() => loadConfig({ NODE_ENV: 'production', JWT_SECRET: secret, ENCRYPTION_KEYS: 'k1:c2hvcnQ=' }), {
    message: /ENCRYPTION_KEYS/,
  });
  const config = loadConfig({ NODE_ENV: 'production', JWT_SECRET: secret, ENCRYPTION_KEYS: `k2:${key},k1:${key}` });
  t.deepEqual(
    config.encryptionKeys.map((k) => k.id),
    ['k2', 'k1'],
  );
  t.deepEqual(config.warnings, []);
});

test('bad values name their variable', (t) => {
  const error = t.throws(
    () =>
      loadConfig({
        PORT: '99999',
        DATABASE_URL: 'mysql://x',
        REDIS_URL: 'http://x',
        CORS_ORIGINS: 'not a url',
        LOG_LEVEL: 'loud',
        DEBUG: 'maybe',
        JWT_SECRET: secret,
        ENCRYPTION_KEYS: `k1:${key}`,
      }),
    { instanceOf: ConfigError },
  );
  for (const name of ['PORT', 'DATABASE_URL', 'REDIS_URL', 'CORS_ORIGINS', 'LOG_LEVEL', 'DEBUG']) {
    t.regex(error?.message ?? '', new RegExp(name));
  }
  t.throws(() => loadConfig({ GITHUB_CLIENT_ID: 'id', JWT_SECRET: secret, ENCRYPTION_KEYS: `k1:${key}` }), {
    message: /GITHUB_CLIENT_SECRET/,
  });
});
