import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { CONFIG_VARIABLES, ConfigError, loadConfig, parseDuration } from './config.js';

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
  t.is(config.warnings.length, 1);
  t.regex(config.warnings[0] ?? '', /SMTP_URL is not set/);
  const withSmtp = loadConfig({
    NODE_ENV: 'production',
    JWT_SECRET: secret,
    ENCRYPTION_KEYS: `k1:${key}`,
    SMTP_URL: 'smtps://mailer:pw@smtp.example.com:465',
    MAIL_FROM: 'Ops <ops@example.com>',
  });
  t.deepEqual(withSmtp.warnings, []);
  t.deepEqual(withSmtp.smtp, { url: 'smtps://mailer:pw@smtp.example.com:465', from: 'Ops <ops@example.com>' });
});

test('in production an unset FRONTEND_URL allows no localhost origin: it is the server itself', (t) => {
  const base = { NODE_ENV: 'production', JWT_SECRET: secret, ENCRYPTION_KEYS: `k1:${key}` } as const;
  t.is(loadConfig({ ...base, PUBLIC_URL: 'https://api.example.com' }).frontendUrl, 'https://api.example.com');
  t.is(loadConfig({ ...base, PORT: '8000' }).frontendUrl, 'http://localhost:8000');
  t.is(loadConfig({ ...base, FRONTEND_URL: 'https://app.example.com' }).frontendUrl, 'https://app.example.com');
  t.is(loadConfig({}).frontendUrl, 'http://localhost:3000');
});

test('SESSION_MAX_AGE defaults to 30 days and may not be shorter than a refresh token', (t) => {
  t.is(loadConfig({}).sessionMaxAgeSeconds, 30 * 86_400);
  t.is(loadConfig({ SESSION_MAX_AGE: '14d' }).sessionMaxAgeSeconds, 14 * 86_400);
  t.throws(() => loadConfig({ SESSION_MAX_AGE: '1d' }), {
    message: /SESSION_MAX_AGE: must be at least REFRESH_TOKEN_TTL/,
  });
  t.throws(() => loadConfig({ SMTP_URL: 'http://not-smtp' }), { message: /SMTP_URL/ });
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

test('the runtime defaults to local processes, with the apps router on 8080 for apps.localhost', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'shipyard-config-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const { runtime } = loadConfig({ DATA_DIR: dir, HOST: '127.0.0.1' });
  t.like(runtime, {
    kind: 'local',
    dir: join(dir, 'runtime'),
    dirExplicit: false,
    appsPort: 8080,
    appsHost: '127.0.0.1',
    appsDomain: 'apps.localhost',
    appsPublicPort: undefined,
    allowLocalRepos: false,
    healthCheckTimeoutMs: 60_000,
    appMemoryMb: 2048,
    appUidBase: 200_000,
    simulatedBuildMs: 1500,
  });
  const chosen = loadConfig({
    DATA_DIR: dir,
    RUNTIME: 'simulated',
    RUNTIME_DIR: join(dir, 'x'),
    ALLOW_LOCAL_REPOS: 'true',
    SIMULATED_BUILD_MS: '0',
  });
  t.like(chosen.runtime, {
    kind: 'simulated',
    dir: join(dir, 'x'),
    dirExplicit: true,
    allowLocalRepos: true,
    simulatedBuildMs: 0,
  });
});

test('a bad runtime setting stops the start, naming the variable', (t) => {
  for (const [name, value] of [
    ['RUNTIME', 'docker'],
    ['APPS_PORT', '70000'],
    ['APPS_DOMAIN', 'Apps_Local'],
    ['ALLOW_LOCAL_REPOS', 'maybe'],
    ['HEALTH_CHECK_TIMEOUT_MS', '10'],
    ['APP_MEMORY_MB', '-1'],
    ['APP_UID_BASE', '0'],
    ['SIMULATED_BUILD_MS', '-1'],
    ['SIMULATED_BUILD_MS', '600001'],
    ['SIMULATED_BUILD_MS', '1.5'],
    ['SIMULATED_BUILD_MS', 'soon'],
  ] as const) {
    const error = t.throws(() => loadConfig({ [name]: value }), { instanceOf: ConfigError });
    t.regex(error?.message ?? '', new RegExp(name), `${name}=${value}`);
  }
});

test('metrics are off by default, on the API server with METRICS_ENABLED, on their own port with METRICS_PORT', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'shipyard-config-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  t.deepEqual(loadConfig({ DATA_DIR: dir }).metrics, { enabled: false, port: undefined });
  t.deepEqual(loadConfig({ DATA_DIR: dir, METRICS_ENABLED: 'true' }).metrics, { enabled: true, port: undefined });
  t.deepEqual(loadConfig({ DATA_DIR: dir, METRICS_ENABLED: 'false' }).metrics, { enabled: false, port: undefined });
  t.deepEqual(loadConfig({ DATA_DIR: dir, METRICS_PORT: '9464' }).metrics, { enabled: true, port: 9464 });
  t.deepEqual(loadConfig({ DATA_DIR: dir, METRICS_ENABLED: 'yes', METRICS_PORT: '9464' }).metrics, {
    enabled: true,
    port: 9464,
  });
});

test('a bad metrics setting stops the start, naming the variable', (t) => {
  for (const [env, name] of [
    [{ METRICS_ENABLED: 'maybe' }, 'METRICS_ENABLED'],
    [{ METRICS_PORT: '70000' }, 'METRICS_PORT'],
    [{ METRICS_PORT: '-1' }, 'METRICS_PORT'],
    [{ METRICS_PORT: 'metrics' }, 'METRICS_PORT'],
    [{ METRICS_PORT: '94.64' }, 'METRICS_PORT'],
    [{ METRICS_PORT: '3000' }, 'METRICS_PORT: must differ from PORT'],
    [{ METRICS_PORT: '9000', PORT: '9000' }, 'METRICS_PORT: must differ from PORT'],
    [{ METRICS_PORT: '9464', METRICS_ENABLED: 'false' }, 'METRICS_PORT: serves metrics, but METRICS_ENABLED is false'],
  ] as const) {
    const error = t.throws(() => loadConfig({ JWT_SECRET: secret, ENCRYPTION_KEYS: `k1:${key}`, ...env }), {
      instanceOf: ConfigError,
    });
    t.true((error?.message ?? '').includes(name), `${JSON.stringify(env)}: ${error?.message}`);
  }
});

test('.env.example lists every variable the configuration reads, and only those', (t) => {
  const example = readFileSync(fileURLToPath(new URL('../../../.env.example', import.meta.url)), 'utf8');
  // `NAME=value` or a commented-out `# NAME=value`.
  const listed = new Set(
    example
      .split('\n')
      .map((line) => /^(?:#\s*)?([A-Z][A-Z0-9_]*)=/.exec(line.trim())?.[1])
      .filter((name): name is string => name !== undefined),
  );
  t.deepEqual(
    CONFIG_VARIABLES.filter((name) => !listed.has(name)),
    [],
    'read by config.ts but missing from .env.example',
  );
  t.deepEqual(
    [...listed].filter((name) => !CONFIG_VARIABLES.includes(name)),
    [],
    'in .env.example but read by nothing',
  );
});

test('DATABASE_MIGRATION_URL is where migrations connect; it needs DATABASE_URL and a postgres:// URL', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'shipyard-config-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const url = 'postgres://owner@db:5432/shipyard';
  const app = 'postgres://app@db:5432/shipyard';
  t.is(loadConfig({ DATA_DIR: dir, DATABASE_URL: app, DATABASE_MIGRATION_URL: url }).databaseMigrationUrl, url);
  t.is(loadConfig({ DATA_DIR: dir, DATABASE_URL: app }).databaseMigrationUrl, undefined);
  const alone = t.throws(() => loadConfig({ DATA_DIR: dir, DATABASE_MIGRATION_URL: url }), { instanceOf: ConfigError });
  t.regex(alone?.message ?? '', /DATABASE_MIGRATION_URL: needs DATABASE_URL/);
  const bad = t.throws(() => loadConfig({ DATA_DIR: dir, DATABASE_URL: app, DATABASE_MIGRATION_URL: 'mysql://x' }), {
    instanceOf: ConfigError,
  });
  t.regex(bad?.message ?? '', /DATABASE_MIGRATION_URL/);
});
