/**
 * "The rows are the truth, the queue is a cache": a server and two workers on PostgreSQL and a
 * Redis of the test's own, which loses every job while builds run and wait (FLUSHDB, or a restart
 * with no persistence). Every build still ends, none runs to success twice.
 */
import test, { type ExecutionContext } from 'ava';
import {
  Api,
  describeBuilds,
  FINAL,
  migratedPostgres,
  type Proc,
  type ScratchRedis,
  scenarioEnv,
  scratchRedis,
  startServer,
  startWorkerProcess,
  successesByBuild,
  tempDir,
  type WireBuild,
  waitUntil,
} from './support.js';

const BUILDS = 8;

async function scenario(
  t: ExecutionContext,
  fault: (redis: ScratchRedis) => Promise<void>,
  settings: Record<string, string>,
): Promise<void> {
  t.timeout(90_000);
  const teardown = t.teardown.bind(t);
  const [redis, pg] = await Promise.all([scratchRedis(teardown), migratedPostgres(teardown)]);
  const env = scenarioEnv({
    DATABASE_URL: pg.url,
    REDIS_URL: redis.url,
    DATA_DIR: tempDir(teardown),
    JOB_CONCURRENCY: '2',
    ...settings,
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

  // Two workers of concurrency 2 run four builds at a time: the others wait in the queue.
  let atFault = '';
  await waitUntil(
    async () => {
      const builds = await api.builds(ids);
      const running = builds.filter((b) => b.status === 'running').length;
      const queued = builds.filter((b) => b.status === 'queued').length;
      atFault = describeBuilds(builds);
      return running > 0 && queued > 0;
    },
    'some builds running and some queued',
    20_000,
    50,
  );
  await fault(redis);
  const faultAt = Date.now();
  t.log(`fault with: ${atFault}`);

  // Requests may be refused (503) while the server reconnects to Redis: polled like the rest.
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
  t.log(`all final ${Date.now() - faultAt} ms after the fault: ${describeBuilds(builds)}`);

  t.true(
    builds.every((b) => b.status === 'succeeded'),
    `nothing made a build fail: ${describeBuilds(builds)}`,
  );
  const successes = successesByBuild(procs);
  for (const build of builds) {
    t.true(
      (successes.get(build.id) ?? 0) <= 1,
      `build ${build.id} ran to success once, not ${successes.get(build.id)}`,
    );
    t.is(build.logs.match(/Build succeeded/g)?.length ?? 0, 1, `one successful run in the logs of ${build.id}`);
    t.true(build.attempt >= 1 && build.attempt <= 4, `attempt ${build.attempt} of ${build.id}`);
  }
  t.is(
    [...successes.values()].reduce((a, b) => a + b, 0),
    builds.filter((b) => b.status === 'succeeded').length,
    'one success line per succeeded build, none for another',
  );
  await waitUntil(
    async () => (await Promise.all(services.map((s) => api.getService(s)))).every((s) => s.status !== 'building'),
    'the services to settle',
    10_000,
  );
  const republished = procs.flatMap((p) => p.lines).filter((l) => l.msg === 'build had no live job; published again');
  t.log(`${republished.length} build(s) published again by the reconcilers`);
  // One fault, so one new publication per stranded build, whichever of the reconcilers makes it.
  const perBuild = new Map<string, number>();
  for (const line of republished) perBuild.set(String(line.build_id), (perBuild.get(String(line.build_id)) ?? 0) + 1);
  t.deepEqual(
    [...perBuild].filter(([, n]) => n > 1),
    [],
    'no build published again twice',
  );
}

test.serial('Redis flushed under running and queued builds, at the default lease and reconcile interval', (t) =>
  scenario(t, (redis) => redis.flush(), {}),
);

test.serial('Redis killed and restarted empty on the same port under running and queued builds', (t) =>
  scenario(
    t,
    async (redis) => {
      await redis.kill();
      await redis.start();
    },
    { JOB_LEASE_MS: '2000', RECONCILE_INTERVAL_MS: '500', JOB_BACKOFF_MS: '200' },
  ),
);
