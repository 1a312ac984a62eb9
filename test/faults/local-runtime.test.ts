import { readFileSync } from 'node:fs';
import { chmod, writeFile } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import { join } from 'node:path';
import { createFixtureRepo } from '@shipyard/adapters-runtime/testing';
import test from 'ava';
import {
  Api,
  freePort,
  migratedPostgres,
  type Proc,
  scenarioEnv,
  scratchRedis,
  startServer,
  startWorkerProcess,
  tempDir,
  waitUntil,
} from './support.js';

/**
 * End to end on the real runtime (`RUNTIME=local`), as a user does it over HTTP: a service from
 * a git repository (a bare one made here, `file://`, allowed for the test), a build whose log is
 * followed live, a deployment, the app reached through the apps router, and the app started
 * again when the server restarts.
 */

interface SseEvent {
  event: string;
  data: string;
  id: string | null;
}

/** Reads an SSE response event by event. */
async function* sseEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let end = buffer.indexOf('\n\n');
    while (end >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      end = buffer.indexOf('\n\n');
      const event: SseEvent = { event: 'message', data: '', id: null };
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon === -1 ? line : line.slice(0, colon);
        const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'data') data.push(value);
        else if (field === 'event') event.event = value;
        else if (field === 'id') event.id = value;
      }
      if (data.length === 0 && event.event === 'message') continue;
      event.data = data.join('\n');
      yield event;
    }
  }
}

/** GET through the apps router with the app's Host; the body, or null when nothing answers. */
function viaRouter(port: number, url: string): Promise<{ status: number; body: string } | null> {
  const host = new URL(url).host;
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/', headers: { host }, timeout: 5_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
    req.end();
  });
}

test('a build streams its log live, its deployment answers through the router, and comes back after a restart', async (t) => {
  t.timeout(170_000);
  const teardown = t.teardown.bind(t);
  const root = tempDir(teardown, 'shipyard-local-runtime-');
  // Apps run in process groups of their own: whatever a failed test left running is stopped here.
  teardown(() => killRecordedApps(join(root, 'data', 'runtime')));
  // Builds and apps run as an unprivileged user when the tests run as root: they must reach these.
  await chmod(root, 0o755);
  const repo = await createFixtureRepo(root);
  const gate = join(root, 'gate');
  const appsPort = await freePort();
  const env = scenarioEnv({
    RUNTIME: 'local',
    ALLOW_LOCAL_REPOS: 'true',
    APPS_PORT: String(appsPort),
    APPS_HOST: '127.0.0.1',
    DATA_DIR: join(root, 'data'),
    RECONCILE_INTERVAL_MS: '1000',
    DATABASE_URL: undefined,
    REDIS_URL: undefined,
  });
  let server: Proc & { base: string } = await startServer(teardown, 'server', env);
  const api = await new Api(server.base).register();
  const projectId = await api.project();
  const { body: service } = await api.request<{ id: string; health_check_path: string }>(
    'POST',
    `/projects/${projectId}/services`,
    { name: 'web', repo_url: repo.url, health_check_path: '/health' },
    201,
  );
  await api.request(
    'PUT',
    `/services/${service.id}/env`,
    { vars: { GREETING: 'hello from e2e', BUILD_GATE: gate } },
    200,
  );

  const build = await api.triggerBuild(service.id);
  const stream = await fetch(`${server.base}/api/v1/builds/${build.id}/logs`, {
    headers: { authorization: api.authorization, accept: 'text/event-stream' },
    signal: AbortSignal.timeout(120_000),
  });
  t.is(stream.status, 200);
  t.regex(stream.headers.get('content-type') ?? '', /^text\/event-stream/);
  const lines: string[] = [];
  let statusAtFirstLine: string | undefined;
  let ended = false;
  for await (const event of sseEvents(stream.body as ReadableStream<Uint8Array>)) {
    if (event.event === 'end') {
      ended = true;
      break;
    }
    if (event.event !== 'message') continue;
    lines.push(event.data);
    if (event.data === 'build: step 1' && statusAtFirstLine === undefined) {
      // The build waits for the gate: what arrived so far came while it ran.
      statusAtFirstLine = (await api.build(build.id)).status;
      await writeFile(gate, 'go');
      await chmod(gate, 0o644);
    }
  }
  t.true(ended, 'the stream ends once the build is final');
  t.is(statusAtFirstLine, 'running', 'the first line arrived before the build ended');
  const step1 = lines.indexOf('build: step 1');
  const step2 = lines.indexOf('build: step 2');
  t.true(step1 >= 0 && step2 > step1, `the lines came in order: ${lines.join(' | ')}`);
  const built = await api.build(build.id);
  t.is(built.status, 'succeeded', built.error ?? '');

  const { body: deployment } = await api.request<{ id: string }>(
    'POST',
    `/services/${service.id}/deployments`,
    { build_id: build.id },
    202,
  );
  let live: { status: string; url: string | null; error: string | null } | undefined;
  await waitUntil(
    async () => {
      live = (await api.request<typeof live & object>('GET', `/deployments/${deployment.id}`, undefined, 200)).body;
      return live.status === 'live' || live.status === 'failed';
    },
    'the deployment to settle',
    60_000,
  );
  t.is(live?.status, 'live', live?.error ?? '');
  const url = live?.url as string;
  t.regex(url, new RegExp(`^http://web-[0-9a-f]{8}\\.apps\\.localhost:${appsPort}$`));
  const answer = await viaRouter(appsPort, url);
  t.is(answer?.status, 200);
  const app = JSON.parse(answer?.body ?? '{}') as Record<string, unknown>;
  t.is(app.version, 'v2');
  t.is(app.greeting, 'hello from e2e', 'the app sees its env vars');
  t.is(app.jwtSecret, null, "the app does not see the server's secrets");
  t.is(app.databaseUrl, null);

  const unknownHost = await viaRouter(appsPort, `http://nothing-12345678.apps.localhost:${appsPort}`);
  t.is(unknownHost?.status, 502);
  t.is((JSON.parse(unknownHost?.body ?? '{}') as { error?: { code?: string } }).error?.code, 'bad_gateway');

  const logs = await fetch(`${server.base}/api/v1/deployments/${deployment.id}/logs`, {
    headers: { authorization: api.authorization },
  });
  t.is(logs.status, 200);
  await waitUntil(
    async () =>
      (
        await (
          await fetch(`${server.base}/api/v1/deployments/${deployment.id}/logs`, {
            headers: { authorization: api.authorization },
          })
        ).text()
      ).includes('listening on'),
    "the app's output to reach the log",
    10_000,
  );

  // A restart: SIGTERM stops the app with the server; the next start runs it again.
  server.child.kill('SIGTERM');
  t.is((await server.exited).code, 0);
  t.is(await viaRouter(appsPort, url), null, 'nothing answers while the server is down');
  server = await startServer(teardown, 'server-again', env);
  await waitUntil(async () => (await viaRouter(appsPort, url))?.status === 200, 'the live app to answer again', 60_000);
  const again = JSON.parse((await viaRouter(appsPort, url))?.body ?? '{}') as Record<string, unknown>;
  t.is(again.version, 'v2');
  t.not(again.pid, app.pid, 'a new process of the same artifact');
  server.child.kill('SIGTERM');
  t.is((await server.exited).code, 0);
  t.is(await viaRouter(appsPort, url), null);
  await waitUntil(() => !alive(again.pid as number), 'the app to be gone', 5_000);
});

/** A service of the fixture repository, built and deployed through `api`; the live deployment. */
async function deployFixture(
  api: Api,
  repoUrl: string,
): Promise<{ deploymentId: string; url: string; serviceId: string }> {
  const projectId = await api.project();
  const { body: service } = await api.request<{ id: string }>(
    'POST',
    `/projects/${projectId}/services`,
    { name: 'web', repo_url: repoUrl, health_check_path: '/health', auto_deploy: true },
    201,
  );
  await api.request('PUT', `/services/${service.id}/env`, { vars: { GREETING: 'hello from e2e' } }, 200);
  await api.triggerBuild(service.id);
  let live: { id: string; url: string } | undefined;
  await waitUntil(
    async () => {
      const { body } = await api.request<{ items: Array<{ id: string; url: string }> }>(
        'GET',
        `/services/${service.id}/deployments?status=live`,
        undefined,
        200,
      );
      live = body.items[0];
      return live !== undefined;
    },
    'the build to be deployed',
    90_000,
    250,
  );
  return { deploymentId: (live as { id: string }).id, url: (live as { url: string }).url, serviceId: service.id };
}

test('workers on one machine: the one holding APPS_PORT runs builds and apps; when it is killed, another takes over', async (t) => {
  t.timeout(170_000);
  const teardown = t.teardown.bind(t);
  const root = tempDir(teardown, 'shipyard-local-workers-');
  teardown(() => killRecordedApps(join(root, 'runtime')));
  await chmod(root, 0o755);
  const repo = await createFixtureRepo(root);
  const [redis, pg] = await Promise.all([scratchRedis(teardown), migratedPostgres(teardown)]);
  const appsPort = await freePort();
  const env = scenarioEnv({
    RUNTIME: 'local',
    ALLOW_LOCAL_REPOS: 'true',
    APPS_PORT: String(appsPort),
    APPS_HOST: '127.0.0.1',
    RUNTIME_DIR: join(root, 'runtime'),
    DATA_DIR: join(root, 'data'),
    DATABASE_URL: pg.url,
    REDIS_URL: redis.url,
    RECONCILE_INTERVAL_MS: '500',
    JOB_LEASE_MS: '3000',
  });
  const server = await startServer(teardown, 'server', env);
  const first = await startWorkerProcess(teardown, 'worker-1', env);
  const second = await startWorkerProcess(teardown, 'worker-2', env);
  const started = (proc: Proc) =>
    proc.lines.find((line) => line.msg === 'worker started' && line.database !== undefined);
  t.is(started(first)?.runs_builds_and_apps, true);
  t.is(started(second)?.runs_builds_and_apps, false, 'the second one waits for the runtime');

  const api = await new Api(server.base).register();
  const { url } = await deployFixture(api, repo.url);
  const answer = await viaRouter(appsPort, url);
  t.is(answer?.status, 200);
  const app = JSON.parse(answer?.body ?? '{}') as { pid: number; greeting: string };
  t.is(app.greeting, 'hello from e2e');

  await first.kill('SIGKILL');
  await second.line((line) => line.msg === 'this worker now runs builds and apps', 'the takeover', 20_000);
  await waitUntil(
    async () => {
      const again = await viaRouter(appsPort, url);
      return again?.status === 200 && (JSON.parse(again.body) as { pid: number }).pid !== app.pid;
    },
    'the app to answer again, run by the second worker',
    30_000,
    250,
  );
  t.false(alive(app.pid), "the first worker's app was stopped, not left running beside the new one");
});

/** Whether the process runs (a zombie waiting to be reaped does not). */
const alive = (pid: number): boolean => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
};

/** Kills the process group of every app instance recorded under the runtime directory. */
async function killRecordedApps(runtimeDir: string): Promise<void> {
  const { readdir, readFile } = await import('node:fs/promises');
  const records: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.name.endsWith('.json') && dir.endsWith('instances')) records.push(path);
    }
  };
  await walk(runtimeDir);
  for (const record of records) {
    try {
      const { pid } = JSON.parse(await readFile(record, 'utf8')) as { pid: number };
      process.kill(-pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
}

test('npm start beside another one: with APPS_PORT unset and 8080 taken, its apps router takes a free port', async (t) => {
  t.timeout(120_000);
  const teardown = t.teardown.bind(t);
  const root = tempDir(teardown, 'shipyard-local-port-');
  await chmod(root, 0o755);
  // 8080 is held here (or by whatever holds it on this machine already): taken either way.
  const blocker = createServer();
  await new Promise<void>((resolve) => {
    blocker.once('error', () => resolve());
    blocker.listen(8080, '127.0.0.1', () => resolve());
  });
  teardown(() => new Promise<void>((resolve) => blocker.close(() => resolve())));
  const env = scenarioEnv({
    RUNTIME: 'local',
    APPS_HOST: '127.0.0.1',
    DATA_DIR: join(root, 'data'),
    DATABASE_URL: undefined,
    REDIS_URL: undefined,
  });
  const server = await startServer(teardown, 'server', env);
  const warning = server.lines.find((line) => String(line.msg).startsWith('APPS_PORT 8080 is in use'));
  const port = warning?.apps_port as number;
  t.true(typeof port === 'number' && port !== 8080, 'the start-up log names the port taken instead');
  const answer = await viaRouter(port, 'http://nothing-12345678.apps.localhost');
  t.is(answer?.status, 502, 'the router answers there');
  const listening = server.lines.find((line) => typeof line.port === 'number');
  t.regex(String(listening?.runtime), new RegExp(`:${port}$`));
  server.child.kill('SIGTERM');
  t.is((await server.exited).code, 0);
});
