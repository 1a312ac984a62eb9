/**
 * PostgreSQL goes away for 10 s under running builds (a proxy in front of the shared server
 * closes every connection and refuses new ones), then comes back: the jobs wait the outage out,
 * and every build ends soon after.
 */
import test from 'ava';
import {
  Api,
  describeBuilds,
  FINAL,
  migratedPostgres,
  POSTGRES,
  type Proc,
  scenarioEnv,
  scratchRedis,
  sleep,
  startServer,
  startWorkerProcess,
  successesByBuild,
  tcpProxy,
  tempDir,
  throughProxy,
  type WireBuild,
  waitUntil,
} from './support.js';

const BUILDS = 6;
const OUTAGE_MS = 10_000;

test('PostgreSQL stopped for 10 s under running builds and started again: every build ends within 30 s', async (t) => {
  t.timeout(100_000);
  const teardown = t.teardown.bind(t);
  const [redis, pg, proxy] = await Promise.all([
    scratchRedis(teardown),
    migratedPostgres(teardown),
    tcpProxy(teardown, POSTGRES),
  ]);
  const env = scenarioEnv({
    DATABASE_URL: throughProxy(pg.url, proxy),
    REDIS_URL: redis.url,
    DATA_DIR: tempDir(teardown),
    JOB_CONCURRENCY: '2',
    JOB_LEASE_MS: '3000',
    RECONCILE_INTERVAL_MS: '500',
    JOB_BACKOFF_MS: '200',
    DATABASE_POOL_TIMEOUT_MS: '2000',
  });
  const [server, ...workers] = await Promise.all([
    startServer(teardown, 'server', env),
    startWorkerProcess(teardown, 'worker-1', env),
    startWorkerProcess(teardown, 'worker-2', env),
  ]);
  const procs: Proc[] = [server, ...workers];

  const api = await new Api(server.base).register();
  const project = await api.project();
  const services = [await api.service(project, 'api'), await api.service(project, 'web')];
  const ids: string[] = [];
  for (let i = 0; i < BUILDS; i += 1) ids.push((await api.triggerBuild(services[i % 2] as string)).id);

  let atOutage = '';
  await waitUntil(
    async () => {
      const builds = await api.builds(ids);
      atOutage = describeBuilds(builds);
      return builds.some((b) => b.status === 'running');
    },
    'builds to run',
    20_000,
    50,
  );
  await proxy.stop();
  t.log(`PostgreSQL cut with: ${atOutage}`);
  const down = await api.request('GET', `/builds/${ids[0]}`);
  t.is(down.status, 503, 'while the database is away the API answers 503');
  await sleep(OUTAGE_MS);
  await proxy.start();
  const backAt = Date.now();

  let builds: WireBuild[] = [];
  await waitUntil(
    async () => {
      builds = await api.builds(ids);
      return builds.every((b) => FINAL.includes(b.status));
    },
    'every build to reach a final state',
    30_000,
    200,
  ).catch((error: Error) => {
    throw new Error(`${error.message}: ${describeBuilds(builds)}`);
  });
  t.log(`all final ${Date.now() - backAt} ms after PostgreSQL came back: ${describeBuilds(builds)}`);

  t.true(
    builds.every((b) => b.status === 'succeeded'),
    `an outage is no build's fault: ${describeBuilds(builds)}`,
  );
  const successes = successesByBuild(procs);
  for (const build of builds) {
    t.true(
      (successes.get(build.id) ?? 0) <= 1,
      `build ${build.id} ran to success once, not ${successes.get(build.id)}`,
    );
    t.is(build.logs.match(/Build succeeded/g)?.length ?? 0, 1, `one successful run in the logs of ${build.id}`);
  }
  await waitUntil(
    async () => (await Promise.all(services.map((s) => api.getService(s)))).every((s) => s.status !== 'building'),
    'the services to settle',
    10_000,
  );
  const waited = procs.flatMap((p) => p.lines).filter((l) => l.msg === 'database unavailable; the job waits');
  t.log(`${waited.length} job(s) waited for the database`);
});
