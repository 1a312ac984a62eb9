/**
 * docker-compose.yml read statically: the services and how they are wired, that every variable
 * it passes is one the configuration reads, and that its PostgreSQL lets the test suites in the
 * way they connect.
 */
import test from 'ava';
import { parse } from 'yaml';
import { koaServerConfig, nodeCommandOfScript, readRepoFile } from './repo.js';

interface Service {
  image?: string;
  build?: string | { context: string; dockerfile?: string };
  command?: string[] | string;
  environment?: Record<string, string | number | boolean | null>;
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test?: string[]; disable?: boolean };
  profiles?: string[];
}

const text = readRepoFile('docker-compose.yml');
/** Without its comments (which may show `${VAR}` in prose). */
const body = text
  .split('\n')
  .map((line) => line.replace(/(^|\s)#.*$/, ''))
  .join('\n');
const compose = parse(text, { merge: true }) as { services: Record<string, Service> };
const services = compose.services;
const APP = ['migrate', 'server', 'worker'] as const;
/** Read by the image of each service, not by Shipyard. */
const POSTGRES_IMAGE_VARIABLES = [
  'POSTGRES_USER',
  'POSTGRES_PASSWORD',
  'POSTGRES_DB',
  'POSTGRES_HOST_AUTH_METHOD',
  'POSTGRES_INITDB_ARGS',
  'PGDATA',
];
/**
 * Announced by issue 12 (migrations connect as the tables' owner, defaulting to DATABASE_URL) and
 * being added to config.ts; accepted here until CONFIG_VARIABLES lists it.
 */
const ANNOUNCED = ['DATABASE_MIGRATION_URL'];

const shipyardVariables = async () => new Set([...(await koaServerConfig()).CONFIG_VARIABLES, ...ANNOUNCED]);
const argv = (command: Service['command']) => (typeof command === 'string' ? command.split(/\s+/) : command);

test('PostgreSQL, Redis, a one-shot migrate, the server and a worker', (t) => {
  t.deepEqual(Object.keys(services).sort(), ['migrate', 'postgres', 'redis', 'server', 'worker']);
  for (const name of APP) {
    const service = services[name];
    const context = typeof service?.build === 'string' ? service.build : service?.build?.context;
    t.is(context, '.', `${name} is built from the Dockerfile at the root`);
  }
});

test('Redis never evicts (an evicted blacklist entry brings a revoked token back)', (t) => {
  const command = argv(services.redis?.command) ?? [];
  const at = command.indexOf('--maxmemory-policy');
  t.true(at >= 0, 'redis-server --maxmemory-policy');
  t.is(command[at + 1], 'noeviction');
});

test('every variable it interpolates is one config.ts reads or one the PostgreSQL image reads', async (t) => {
  const known = new Set([...(await shipyardVariables()), ...POSTGRES_IMAGE_VARIABLES]);
  const used = [...body.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1] ?? '');
  t.true(used.length > 0);
  for (const variable of new Set(used)) t.true(known.has(variable), `\${${variable}} is read by nothing`);
  t.notRegex(body.replace(/\$\{[^}]*\}/g, ''), /\$[A-Za-z_{]/, 'every variable is written in braces');
});

test('the Shipyard services set only variables config.ts reads; PostgreSQL only its own', async (t) => {
  const known = await shipyardVariables();
  for (const name of APP) {
    for (const key of Object.keys(services[name]?.environment ?? {})) {
      t.true(known.has(key), `${name}: ${key} is read by nothing`);
    }
  }
  for (const key of Object.keys(services.postgres?.environment ?? {})) {
    t.true(POSTGRES_IMAGE_VARIABLES.includes(key), `postgres: ${key}`);
  }
});

test('migrate runs `npm run migrate`’s command as the owner; server and worker wait for it and use DATABASE_URL', (t) => {
  const migrate = services.migrate;
  t.deepEqual(argv(migrate?.command), nodeCommandOfScript('migrate'));
  t.regex(String(migrate?.environment?.DATABASE_MIGRATION_URL ?? ''), /^postgres:\/\/[^@]+@postgres:5432\//);
  t.is(migrate?.depends_on?.postgres?.condition, 'service_healthy');
  t.is(services.worker?.command === undefined, false, 'the worker has its own command');
  t.deepEqual(argv(services.worker?.command), nodeCommandOfScript('worker'));
  t.is(services.server?.command, undefined, "the server runs the image's default command");
  for (const name of ['server', 'worker'] as const) {
    const service = services[name];
    t.is(service?.depends_on?.migrate?.condition, 'service_completed_successfully', `${name} after migrate`);
    t.is(service?.depends_on?.postgres?.condition, 'service_healthy', `${name} after postgres`);
    t.is(service?.depends_on?.redis?.condition, 'service_healthy', `${name} after redis`);
    const env = service?.environment ?? {};
    t.regex(String(env.DATABASE_URL ?? ''), /^postgres:\/\/[^@]+@postgres:5432\//, `${name}: DATABASE_URL`);
    t.regex(String(env.REDIS_URL ?? ''), /^redis:\/\/redis:6379\//, `${name}: REDIS_URL`);
    t.is(env.NODE_ENV, 'production');
    for (const secret of ['JWT_SECRET', 'ENCRYPTION_KEYS']) {
      // From the environment, never a value written here (production refuses to start without one).
      t.regex(String(env[secret] ?? ''), new RegExp(`^\\$\\{${secret}(:?[-?][^}]*)?\\}$`), `${name}: ${secret}`);
    }
  }
  for (const name of ['postgres', 'redis'] as const) {
    t.true((services[name]?.healthcheck?.test?.length ?? 0) > 0, `${name} has a health check`);
  }
  t.true(services.worker?.healthcheck?.disable, "the worker serves no HTTP: the image's health check is off");
});

test('PostgreSQL lets the test suites in as they connect (user, port, no password: trust on 127.0.0.1)', (t) => {
  const source = readRepoFile('packages/adapters-db/src/testing/scratch-postgres.ts');
  const admin = new URL(/DEFAULT_ADMIN_URL = '([^']+)'/.exec(source)?.[1] ?? '');
  const env = services.postgres?.environment ?? {};
  t.is(admin.username, String(env.POSTGRES_USER ?? 'postgres'), 'the tests connect as the image user');
  const ports = services.postgres?.ports ?? [];
  t.true(ports.includes(`127.0.0.1:${admin.port}:5432`), `published on 127.0.0.1:${admin.port} only: ${ports}`);
  if (admin.password === '') {
    t.is(env.POSTGRES_HOST_AUTH_METHOD, 'trust', 'the tests send no password');
    for (const port of ports) t.regex(port, /^127\.0\.0\.1:/, 'trust, so never published beyond this machine');
    // The README and the compose URLs say the same: no password.
    const urls = [...`${readRepoFile('README.md')}\n${text}`.matchAll(/postgres(?:ql)?:\/\/[^\s'"`)]+/g)].map(
      (m) => m[0],
    );
    for (const url of urls) t.false(/^postgres(ql)?:\/\/[^/@]+:[^/@]*@/.test(url), `${url} carries a password`);
  } else {
    t.is(String(env.POSTGRES_PASSWORD), decodeURIComponent(admin.password));
  }
});

test('the README shows how to start it', (t) => {
  const readme = readRepoFile('README.md');
  t.regex(readme, /docker compose up -d/);
  t.regex(readme, /docker compose --profile app up/);
});
