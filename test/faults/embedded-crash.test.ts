/**
 * The embedded server (PGlite in DATA_DIR, jobs in process) is SIGKILLed mid-build and started
 * again on the same DATA_DIR: the build it was running is finished by the new process, and its
 * service does not stay `building`.
 */
import test from 'ava';
import {
  Api,
  describeBuilds,
  FINAL,
  scenarioEnv,
  startServer,
  successesByBuild,
  tempDir,
  type WireBuild,
  waitUntil,
} from './support.js';

test('the embedded server killed mid-build and restarted on its DATA_DIR finishes the build', async (t) => {
  t.timeout(90_000);
  const teardown = t.teardown.bind(t);
  // Defaults otherwise: the embedded server treats rows running at start as abandoned.
  const env = scenarioEnv({ DATA_DIR: tempDir(teardown) });
  const first = await startServer(teardown, 'embedded-1', env);
  const api = await new Api(first.base).register();
  const project = await api.project();
  const service = await api.service(project, 'api');
  const ids = [(await api.triggerBuild(service)).id, (await api.triggerBuild(service)).id];
  await waitUntil(async () => (await api.build(ids[0] as string)).status === 'running', 'the build to run', 20_000, 20);
  const before = await api.builds(ids);
  t.log(`killed with: ${describeBuilds(before)}`);
  await first.kill('SIGKILL');
  t.is(first.child.signalCode, 'SIGKILL');

  // The same DATA_DIR (the database, and the development secrets if there were any), a new port.
  const second = await startServer(teardown, 'embedded-2', env);
  const again = api.on(second.base);
  const restartedAt = Date.now();
  let builds: WireBuild[] = [];
  await waitUntil(
    async () => {
      builds = await again.builds(ids);
      return builds.every((b) => FINAL.includes(b.status));
    },
    'the builds to reach a final state',
    30_000,
    100,
  ).catch((error: Error) => {
    throw new Error(`${error.message}: ${describeBuilds(builds)}`);
  });
  t.log(`final ${Date.now() - restartedAt} ms after the restart: ${describeBuilds(builds)}`);
  for (const build of builds) t.true(['succeeded', 'failed'].includes(build.status), describeBuilds([build]));
  const killed = builds[0] as WireBuild;
  t.true(killed.attempt >= 2, `the killed attempt counted: attempt ${killed.attempt}`);
  const successes = successesByBuild([first, second]);
  for (const build of builds) t.true((successes.get(build.id) ?? 0) <= 1, `${build.id} succeeded at most once`);

  await waitUntil(
    async () => (await again.getService(service)).status !== 'building',
    'the service to settle',
    10_000,
  ).catch(async (error: Error) => {
    throw new Error(`${error.message}: service is ${(await again.getService(service)).status}`);
  });
  t.not((await again.getService(service)).status, 'building');
});
