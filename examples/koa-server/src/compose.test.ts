import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { pino } from 'pino';
import request from 'supertest';
import { composeServer, planRole, Shutdown } from './compose.js';
import { loadConfig } from './config.js';

const logger = pino({ level: 'silent' });

/** The configuration of `npm start` with nothing set but a throwaway DATA_DIR and the simulated runtime. */
function plainConfig(env: Record<string, string> = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'shipyard-compose-'));
  return {
    dataDir,
    config: loadConfig({
      DATA_DIR: dataDir,
      RUNTIME: 'simulated',
      SIMULATED_BUILD_MS: '0',
      LOG_LEVEL: 'silent',
      ...env,
    }),
  };
}

/** What keeps the event loop alive, by kind (timers, sockets, handles), counted. */
function activeResources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return counts;
}

/** The resources active now that were not before, by kind. */
function leftOver(before: Map<string, number>): Record<string, number> {
  const left: Record<string, number> = {};
  for (const [kind, count] of activeResources()) {
    const more = count - (before.get(kind) ?? 0);
    if (more > 0) left[kind] = more;
  }
  return left;
}

test.serial(
  'the server composed as `npm start` does it creates a project, lists it, and closes everything',
  async (t) => {
    const { dataDir, config } = plainConfig();
    t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
    const before = activeResources();
    const composition = await composeServer(config, logger);
    t.teardown(() => composition.close());
    t.true(composition.describe.database.startsWith('embedded PGlite'), composition.describe.database);
    t.is(composition.describe.queue, 'in process (jobs run inside this server)');
    t.is(composition.describe.blacklist, 'in process');
    t.false(composition.distributed);
    const app = composition.app.callback();

    const registered = await request(app)
      .post('/api/v1/auth/register')
      .send({ tenant_name: 'Compose', email: 'owner@compose.test', password: 'correct horse battery' });
    t.is(registered.status, 201, registered.text);
    const auth = { Authorization: `Bearer ${registered.body.access_token as string}` };
    const created = await request(app)
      .post('/api/v1/projects')
      .set(auth)
      .send({ name: 'Web', description: 'the site' });
    t.is(created.status, 201, created.text);
    t.like(created.body, { name: 'Web', description: 'the site', tenant_id: registered.body.tenant.id });

    const listed = await request(app).get('/api/v1/projects').set(auth);
    t.is(listed.status, 200, listed.text);
    t.is(listed.body.total, 1);
    t.deepEqual(
      (listed.body.items as Array<{ id: string; name: string }>).map(({ id, name }) => ({ id, name })),
      [{ id: created.body.id as string, name: 'Web' }],
    );

    await composition.close();
    // Nothing the composition started keeps the process alive once it is closed (a socket may
    // take a moment to go).
    const deadline = Date.now() + 500;
    while (Object.keys(leftOver(before)).length > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    t.deepEqual(leftOver(before), {});
  },
);

test('roles: `npm start` runs the jobs itself unless workers share PostgreSQL and Redis', (t) => {
  const postgres = 'postgres://shipyard@127.0.0.1:5432/shipyard';
  const redis = 'redis://127.0.0.1:6379';
  const config = (urls: { databaseUrl?: string; redisUrl?: string }, metrics = false) => ({
    databaseUrl: urls.databaseUrl,
    redisUrl: urls.redisUrl,
    metrics: { enabled: metrics, port: undefined },
  });
  // Server and worker in one process: the embedded database, or no Redis.
  for (const urls of [{}, { redisUrl: redis }, { databaseUrl: postgres }]) {
    t.like(planRole(config(urls), 'server'), {
      jobsRedisUrl: undefined,
      runsJobs: true,
      appliesMigrations: true,
      relaysOutbox: true,
    });
  }
  const shared = { databaseUrl: postgres, redisUrl: redis };
  t.like(planRole(config(shared), 'server'), { jobsRedisUrl: redis, runsJobs: false, appliesMigrations: true });
  t.like(planRole(config(shared), 'worker'), {
    jobsRedisUrl: redis,
    runsJobs: true,
    appliesMigrations: false,
    relaysOutbox: true,
  });
  t.like(planRole(config(shared, true), 'maintenance'), {
    runsJobs: false,
    appliesMigrations: false,
    relaysOutbox: false,
    measures: false,
  });
  t.true(planRole(config({}, true), 'server').measures);
  t.true(planRole(config(shared, true), 'worker').measures);
});

test('the shutdown closes the last opened first, each once, past a closer that fails', async (t) => {
  const closed: string[] = [];
  const shutdown = new Shutdown(logger);
  shutdown.add(async () => void closed.push('database'));
  shutdown.add(async () => {
    closed.push('queue');
    throw new Error('the queue would not close');
  });
  shutdown.add(async () => void closed.push('relay'));
  await Promise.all([shutdown.close(), shutdown.close()]);
  t.deepEqual(closed, ['relay', 'queue', 'database']);
  shutdown.add(async () => void closed.push('metrics listener'));
  await shutdown.close();
  t.deepEqual(closed, ['relay', 'queue', 'database', 'metrics listener']);
});
