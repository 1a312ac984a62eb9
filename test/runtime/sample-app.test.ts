import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppsRouter, LocalBuildRunner, LocalProcessRuntime } from '@shipyard/adapters-runtime';
import { createRepoFromDirectory, get, killProcessesUnder, tempDir } from '@shipyard/adapters-runtime/testing';
import test from 'ava';

// The README walk-through's app (examples/sample-app) through the local runner's default build
// and the runtime's default start: a package.json with no dependencies and no lock file.

const SAMPLE_APP = fileURLToPath(new URL('../../../examples/sample-app', import.meta.url));

test('the sample app builds with the default build, offline, and answers with its greeting', async (t) => {
  const root = await tempDir('shipyard-sample-app-');
  t.teardown(async () => {
    const leftovers = await killProcessesUnder(root.dir);
    await root.cleanup();
    if (leftovers.length > 0) throw new Error(`Processes left running: ${leftovers.join(', ')}`);
  });
  const repoUrl = await createRepoFromDirectory(SAMPLE_APP, root.dir, 'sample-app');

  // A registry that counts what reaches it: npm must not need it for an app with no dependencies.
  const registryHits: string[] = [];
  const registry = createServer((req, res) => {
    registryHits.push(`${req.method} ${req.url}`);
    res.statusCode = 503;
    res.end();
  });
  await new Promise<void>((resolve) => registry.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => registry.close(() => resolve())));
  const npmRegistry = `http://127.0.0.1:${(registry.address() as AddressInfo).port}/`;

  const workRoot = join(root.dir, 'work');
  const builds = new LocalBuildRunner({ workRoot, allowLocalRepos: true });
  const lines: string[] = [];
  const built = await builds.run(
    {
      tenantId: 'tenant-1',
      buildId: 'sample-build',
      serviceId: '5a3b1e00-0000-4000-8000-000000000001',
      attempt: 1,
      repoUrl,
      branch: 'main',
      commitSha: null,
      buildCommand: null,
      env: { npm_config_registry: npmRegistry },
    },
    (line) => lines.push(line),
    AbortSignal.timeout(60_000),
  );
  if (built.outcome !== 'succeeded') return t.fail(built.error);
  t.true(lines.includes('==> Running the detected build: npm run build'), lines.join('\n'));
  t.true(lines.some((line) => line.startsWith('build: wrote build-info.json')));

  const router = new AppsRouter({ port: 0, host: '127.0.0.1' });
  await router.listen();
  const runtime = new LocalProcessRuntime({ workRoot, router, healthIntervalMs: 50, drainMs: 50 });
  t.teardown(async () => {
    await runtime.close();
    await router.close();
  });
  const deployed = await runtime.deploy(
    {
      tenantId: 'tenant-1',
      deploymentId: 'sample-deployment',
      serviceId: '5a3b1e00-0000-4000-8000-000000000001',
      serviceName: 'sample-app',
      buildId: 'sample-build',
      artifact: built.artifact,
      port: null,
      startCommand: null, // npm start
      healthCheckPath: '/healthz',
      env: { GREETING: 'Ahoy', npm_config_registry: npmRegistry },
    },
    AbortSignal.timeout(60_000),
  );
  t.like(deployed, { outcome: 'live' });
  const host = router.hostFor('sample-app', '5a3b1e00-0000-4000-8000-000000000001');
  const answer = await get(router.port, host);
  t.is(answer.status, 200);
  t.regex(answer.body, /^Ahoy from the Shipyard sample app! \(built \d{4}-\d\d-\d\dT/);
  t.is((await get(router.port, host, '/healthz')).status, 200);
  t.deepEqual(registryHits, []);
});
