import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';

/** Why the process cannot start: every bad variable, by name. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

const DURATION = /^(\d+)\s*(s|m|h|d)?$/;
const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;

/** `"15m"` → 900. Bare numbers are seconds. */
export function parseDuration(value: string): number | null {
  const match = DURATION.exec(value.trim());
  if (match === null) return null;
  const seconds = Number(match[1]) * UNIT_SECONDS[(match[2] ?? 's') as keyof typeof UNIT_SECONDS];
  return seconds > 0 ? seconds : null;
}

const flag = z
  .string()
  .transform((v) => v.trim().toLowerCase())
  .pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no', '']))
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const duration = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((v, ctx) => {
      const seconds = parseDuration(v);
      if (seconds === null) {
        ctx.addIssue({ code: 'custom', message: 'must be a duration like 900, 15m, 12h or 7d' });
        return z.NEVER;
      }
      return seconds;
    });

const httpUrl = z
  .string()
  .url()
  .refine((u) => /^https?:\/\//.test(u), 'must be an http(s) URL')
  .transform((u) => u.replace(/\/+$/, ''));

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  PUBLIC_URL: httpUrl.optional(),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .optional(),
  DATABASE_MIGRATION_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .optional(),
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
  DATABASE_POOL_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  DATA_DIR: z.string().min(1).default('./.data'),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// URL')
    .optional(),
  JWT_SECRET: z.string().optional(),
  ACCESS_TOKEN_TTL: duration('15m'),
  REFRESH_TOKEN_TTL: duration('7d'),
  SESSION_MAX_AGE: duration('30d'),
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\/[^\s]+$/, 'must be an smtp:// or smtps:// URL')
    .optional(),
  MAIL_FROM: z.string().min(3).max(200).default('Shipyard <no-reply@localhost>'),
  ENCRYPTION_KEYS: z.string().optional(),
  GITHUB_CLIENT_ID: z.string().optional(),
  GITHUB_CLIENT_SECRET: z.string().optional(),
  GITHUB_OAUTH_URL: httpUrl.default('https://github.com'),
  GITHUB_API_URL: httpUrl.default('https://api.github.com'),
  // No default here: in production an unset FRONTEND_URL allows no extra origin (see loadConfig).
  FRONTEND_URL: httpUrl.optional(),
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((o) => o.trim())
        .filter((o) => o !== ''),
    )
    .pipe(z.array(httpUrl)),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DEBUG: flag.default(false),
  TRUST_PROXY: flag.default(false),
  JOB_BACKOFF_MS: z.coerce.number().int().min(1).default(1000),
  JOB_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(4),
  JOB_TIMEOUT_MS: z.coerce.number().int().min(1000).max(86_400_000).default(600_000),
  JOB_LEASE_MS: z.coerce.number().int().min(1000).max(3_600_000).default(15_000),
  RECONCILE_INTERVAL_MS: z.coerce.number().int().min(100).max(3_600_000).default(5_000),
  AUDIT_RETENTION_DAYS: z.coerce.number().int().min(1).max(36_500).default(365),
  RUNTIME: z.enum(['local', 'simulated']).default('local'),
  SIMULATED_BUILD_MS: z.coerce.number().int().min(0).max(600_000).default(1500),
  RUNTIME_DIR: z.string().min(1).optional(),
  APPS_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  APPS_HOST: z.string().min(1).optional(),
  APPS_DOMAIN: z
    .string()
    .regex(/^(?=.{1,200}$)([a-z0-9](?:[a-z0-9-]*[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$/, 'must be a DNS name')
    .default('apps.localhost'),
  APPS_PUBLIC_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  ALLOW_LOCAL_REPOS: flag.default(false),
  HEALTH_CHECK_TIMEOUT_MS: z.coerce.number().int().min(1000).max(3_600_000).default(60_000),
  APP_MEMORY_MB: z.coerce.number().int().min(0).max(1_048_576).default(2048),
  APP_UID_BASE: z.coerce.number().int().min(1000).max(4_000_000_000).default(200_000),
  METRICS_ENABLED: flag.default(false),
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
});
/** Every environment variable the configuration reads (`.env.example` lists each one). */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(schema.shape);

export interface Config {
  env: 'development' | 'production' | 'test';
  production: boolean;
  port: number;
  host: string;
  publicUrl: string;
  databaseUrl: string | undefined;
  /** Where migrations connect, as the tables' owner (default: `databaseUrl`). */
  databaseMigrationUrl: string | undefined;
  /** Connections at most, and how long a unit of work waits for one. */
  databasePool: { max: number; acquireTimeoutMs: number };
  dataDir: string;
  redisUrl: string | undefined;
  jwt: { keys: { id: string; secret: Uint8Array }[]; accessTtlSeconds: number; refreshTtlSeconds: number };
  /** No refresh renews a sign-in session past this many seconds after it began. */
  sessionMaxAgeSeconds: number;
  /** Where the account mails go out (`SMTP_URL`, `MAIL_FROM`); undefined: written to the log. */
  smtp: { url: string; from: string } | undefined;
  encryptionKeys: { id: string; key: Uint8Array }[];
  github: { clientId: string; clientSecret: string; oauthUrl: string; apiUrl: string } | undefined;
  frontendUrl: string;
  corsOrigins: string[];
  logLevel: string;
  debug: boolean;
  trustProxy: boolean;
  jobs: {
    backoffMs: number;
    concurrency: number;
    /** Per attempt; the job's signal is aborted then. */
    timeoutMs: number;
    /** How long a worker's claim on a running build or deployment lasts unless renewed. */
    leaseMs: number;
    /** How often the reconciler looks for stranded builds and deployments. */
    reconcileIntervalMs: number;
  };
  /** Audit events older than this many days are deleted by the cleanup jobs. */
  auditRetentionDays: number;
  /** What runs builds and apps: `local` processes on this machine, or `simulated` (nothing runs). */
  runtime: {
    kind: 'local' | 'simulated';
    /** How long a simulated build takes (`RUNTIME=simulated`), in ms. */
    simulatedBuildMs: number;
    /** Build directories, artifacts and the records of running apps. */
    dir: string;
    /** Whether `RUNTIME_DIR` named it (else it is `$DATA_DIR/runtime`, and may move, see app-runtime.ts). */
    dirExplicit: boolean;
    /** The apps' router listens here; a deployment's URL is `http://<service>-<id>.<domain>[:port]`. */
    appsPort: number;
    /** Whether `APPS_PORT` was set: if not, an in-process server whose 8080 is taken picks a free port. */
    appsPortExplicit: boolean;
    appsHost: string;
    appsDomain: string;
    /** The port in the apps' URLs when a proxy in front maps another one (`null`: none shown). */
    appsPublicPort: number | undefined;
    allowLocalRepos: boolean;
    healthCheckTimeoutMs: number;
    /** Data-segment limit of each process of a build or an app, in MB (0: none). */
    appMemoryMb: number;
    /** As root, each service's builds and apps run as a uid of its own, from this one on. */
    appUidBase: number;
  };
  /**
   * Prometheus metrics at `/metrics`: off, on the API server (`METRICS_ENABLED`), or on a listener
   * of their own at `port` on `host` (`METRICS_PORT`, the only way a worker serves them).
   */
  metrics: { enabled: boolean; port: number | undefined };
  /** Things the operator should know at start (generated development secrets). */
  warnings: string[];
}

function parseEncryptionKeys(value: string): { id: string; key: Uint8Array }[] | string {
  const keys = [];
  for (const entry of value
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)) {
    const [id, material, ...rest] = entry.split(':');
    if (id === undefined || material === undefined || rest.length > 0 || !/^[A-Za-z0-9_-]{1,32}$/.test(id)) {
      return 'must be a comma-separated list of kid:base64key';
    }
    const key = Buffer.from(material, 'base64');
    if (key.length !== 32) return `key "${id}" must be 32 bytes, base64-encoded`;
    keys.push({ id, key: new Uint8Array(key) });
  }
  if (new Set(keys.map((k) => k.id)).size !== keys.length) return 'key ids must be distinct';
  return keys.length > 0 ? keys : 'must list at least one key';
}

/**
 * Development secrets made once and kept in DATA_DIR, so tokens and encrypted env vars survive
 * a restart of `npm start`. Never used in production, which requires real secrets.
 */
function developmentSecrets(dataDir: string): { jwtSecret: string; encryptionKey: string } {
  const file = join(resolve(dataDir), 'development-secrets.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8'));
  const secrets = {
    jwtSecret: randomBytes(48).toString('base64url'),
    encryptionKey: randomBytes(32).toString('base64'),
  };
  mkdirSync(resolve(dataDir), { recursive: true });
  writeFileSync(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return secrets;
}

/** Reads and checks the environment; throws `ConfigError` naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const input = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const c = parsed.data;
  const production = c.NODE_ENV === 'production';
  const problems: string[] = [];
  const warnings: string[] = [];
  let dev: { jwtSecret: string; encryptionKey: string } | undefined;
  const devSecrets = () => {
    dev ??= developmentSecrets(c.DATA_DIR);
    return dev;
  };

  let jwtSecret = c.JWT_SECRET;
  if (jwtSecret === undefined) {
    if (production) problems.push('JWT_SECRET: required in production (at least 32 bytes)');
    else {
      jwtSecret = devSecrets().jwtSecret;
      warnings.push(`JWT_SECRET is not set: using a development secret kept in ${c.DATA_DIR}`);
    }
  } else if (Buffer.byteLength(jwtSecret, 'utf8') < 32) {
    problems.push('JWT_SECRET: must be at least 32 bytes');
  }

  let encryptionKeys: { id: string; key: Uint8Array }[] = [];
  if (c.ENCRYPTION_KEYS === undefined) {
    if (production) problems.push('ENCRYPTION_KEYS: required in production (kid:base64key of 32 bytes)');
    else {
      encryptionKeys = [{ id: 'dev', key: new Uint8Array(Buffer.from(devSecrets().encryptionKey, 'base64')) }];
      warnings.push(`ENCRYPTION_KEYS is not set: using a development key kept in ${c.DATA_DIR}`);
    }
  } else {
    const keys = parseEncryptionKeys(c.ENCRYPTION_KEYS);
    if (typeof keys === 'string') problems.push(`ENCRYPTION_KEYS: ${keys}`);
    else encryptionKeys = keys;
  }

  const hasId = c.GITHUB_CLIENT_ID !== undefined;
  const hasSecret = c.GITHUB_CLIENT_SECRET !== undefined;
  if (hasId !== hasSecret) problems.push('GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET: set both or neither');
  if (c.DEBUG && production) problems.push('DEBUG: must be false in production');
  if (c.DATABASE_MIGRATION_URL !== undefined && c.DATABASE_URL === undefined) {
    problems.push('DATABASE_MIGRATION_URL: needs DATABASE_URL (the embedded database migrates on its own)');
  }
  const metricsEnabledSet = env.METRICS_ENABLED !== undefined && env.METRICS_ENABLED.trim() !== '';
  if (c.METRICS_PORT !== undefined && metricsEnabledSet && !c.METRICS_ENABLED) {
    problems.push('METRICS_PORT: serves metrics, but METRICS_ENABLED is false (unset one of them)');
  }
  if (c.METRICS_PORT !== undefined && c.METRICS_PORT !== 0 && c.METRICS_PORT === c.PORT) {
    problems.push('METRICS_PORT: must differ from PORT (unset it to serve /metrics on the API server)');
  }
  if (c.SESSION_MAX_AGE < c.REFRESH_TOKEN_TTL) {
    problems.push('SESSION_MAX_AGE: must be at least REFRESH_TOKEN_TTL');
  }
  if (c.SMTP_URL === undefined && production) {
    warnings.push(
      'SMTP_URL is not set: verification, password-reset and invitation mails are written to the log, links included',
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);

  return {
    env: c.NODE_ENV,
    production,
    port: c.PORT,
    host: c.HOST,
    publicUrl: c.PUBLIC_URL ?? `http://localhost:${c.PORT}`,
    databaseUrl: c.DATABASE_URL,
    databaseMigrationUrl: c.DATABASE_MIGRATION_URL,
    databasePool: { max: c.DATABASE_POOL_MAX, acquireTimeoutMs: c.DATABASE_POOL_TIMEOUT_MS },
    dataDir: resolve(c.DATA_DIR),
    redisUrl: c.REDIS_URL,
    jwt: {
      keys: [{ id: 'k1', secret: new Uint8Array(Buffer.from(jwtSecret ?? '', 'utf8')) }],
      accessTtlSeconds: c.ACCESS_TOKEN_TTL,
      refreshTtlSeconds: c.REFRESH_TOKEN_TTL,
    },
    sessionMaxAgeSeconds: c.SESSION_MAX_AGE,
    smtp: c.SMTP_URL === undefined ? undefined : { url: c.SMTP_URL, from: c.MAIL_FROM },
    encryptionKeys,
    github:
      hasId && hasSecret
        ? {
            clientId: c.GITHUB_CLIENT_ID as string,
            clientSecret: c.GITHUB_CLIENT_SECRET as string,
            oauthUrl: c.GITHUB_OAUTH_URL,
            apiUrl: c.GITHUB_API_URL,
          }
        : undefined,
    // The development default is a local frontend; in production, unset means the server itself
    // (no credentialed CORS origin besides PUBLIC_URL).
    frontendUrl:
      c.FRONTEND_URL ?? (production ? (c.PUBLIC_URL ?? `http://localhost:${c.PORT}`) : 'http://localhost:3000'),
    corsOrigins: c.CORS_ORIGINS,
    logLevel: c.LOG_LEVEL,
    debug: c.DEBUG,
    trustProxy: c.TRUST_PROXY,
    jobs: {
      backoffMs: c.JOB_BACKOFF_MS,
      concurrency: c.JOB_CONCURRENCY,
      timeoutMs: c.JOB_TIMEOUT_MS,
      leaseMs: c.JOB_LEASE_MS,
      reconcileIntervalMs: c.RECONCILE_INTERVAL_MS,
    },
    auditRetentionDays: c.AUDIT_RETENTION_DAYS,
    runtime: {
      kind: c.RUNTIME,
      simulatedBuildMs: c.SIMULATED_BUILD_MS,
      dir: resolve(c.RUNTIME_DIR ?? join(c.DATA_DIR, 'runtime')),
      dirExplicit: c.RUNTIME_DIR !== undefined,
      appsPort: c.APPS_PORT,
      appsPortExplicit: env.APPS_PORT !== undefined && env.APPS_PORT !== '',
      appsHost: c.APPS_HOST ?? c.HOST,
      appsDomain: c.APPS_DOMAIN,
      appsPublicPort: c.APPS_PUBLIC_PORT,
      allowLocalRepos: c.ALLOW_LOCAL_REPOS,
      healthCheckTimeoutMs: c.HEALTH_CHECK_TIMEOUT_MS,
      appMemoryMb: c.APP_MEMORY_MB,
      appUidBase: c.APP_UID_BASE,
    },
    metrics: { enabled: c.METRICS_ENABLED || c.METRICS_PORT !== undefined, port: c.METRICS_PORT },
    warnings,
  };
}
