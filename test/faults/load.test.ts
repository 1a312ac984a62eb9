/**
 * No fault: two servers and two workers (PostgreSQL and a Redis of the test's own, every setting
 * at its default) take 30 builds across three services, sent to both servers. Every build ends,
 * each runs to success once, and no process logs an error.
 */
import test from 'ava';
import {
  Api,
  describeBuilds,
  errorLines,
  FINAL,
  migratedPostgres,
  type Proc,
  scenarioEnv,
  scratchRedis,
  startServer,
  startWorkerProcess,
  successesByBuild,
  tempDir,
  type WireBuild,
  waitUntil,
} from './support.js';

const BUILDS = 30;

test('two servers and two workers under load: every build ends, no process logs an error', async (t) => {
  t.timeout(120_000);
  const teardown = t.teardown.bind(t);
  const [redis, pg] = await Promise.all([scratchRedis(teardown), migratedPostgres(teardown)]);
  const env = scenarioEnv({ DATABASE_URL: pg.url, REDIS_URL: redis.url, DATA_DIR: tempDir(teardown) });
  const procs: Proc[] = await Promise.all([
    startServer(teardown, 'server-1', env),
    startServer(teardown, 'server-2', env),
    startWorkerProcess(teardown, 'worker-1', env),
    startWorkerProcess(teardown, 'worker-2', env),
  ]);
  const [one, two] = procs as [Proc & { base: string }, Proc & { base: string }];

  const api = await new Api(one.base).register();
  const apis = [api, api.on(two.base)];
  const project = await api.project();
  const services = await Promise.all(['api', 'web', 'jobs'].map((name) => api.service(project, name)));
  const started = Date.now();
  const ids = (
    await Promise.all(
      Array.from({ length: BUILDS }, (_, i) =>
        (apis[i % 2] as Api).triggerBuild(services[i % services.length] as string),
      ),
    )
  ).map((b) => b.id);

  let builds: WireBuild[] = [];
  await waitUntil(
    async () => {
      builds = await (apis[1] as Api).builds(ids);
      return builds.every((b) => FINAL.includes(b.status));
    },
    'every build to reach a final state',
    60_000,
    250,
  ).catch((error: Error) => {
    throw new Error(`${error.message}: ${describeBuilds(builds)}`);
  });
  t.log(`${BUILDS} builds final in ${Date.now() - started} ms`);

  t.true(
    builds.every((b) => b.status === 'succeeded' && b.attempt === 1),
    describeBuilds(builds.filter((b) => b.status !== 'succeeded' || b.attempt !== 1)),
  );
  const successes = successesByBuild(procs);
  t.true(
    ids.every((id) => successes.get(id) === 1),
    'each build ran to success exactly once',
  );
  const ran = procs.slice(2).map((w) => w.lines.filter((l) => l.msg === 'build job done').length);
  t.log(`builds run by worker: ${ran.join(' / ')}`);
  await waitUntil(
    async () => (await Promise.all(services.map((s) => api.getService(s)))).every((s) => s.status === 'idle'),
    'the services to settle idle',
    10_000,
  );
  t.deepEqual(errorLines(procs), [], 'no line at level error, nothing printed outside the logs');
});
