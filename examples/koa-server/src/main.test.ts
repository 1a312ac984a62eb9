import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test, { type ExecutionContext } from 'ava';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));
/**
 * A test that starts servers sets its own timeout: it then fails alone, with its teardowns run,
 * rather than the runner's inactivity timeout stopping the whole file on a loaded machine.
 */
const SERVER_TEST_TIMEOUT = 180_000;

interface Started {
  child: ChildProcess;
  port: number;
  lines: Record<string, unknown>[];
  exited: Promise<number | null>;
}

/** A DATA_DIR for several server processes in turn; removed after the test. */
function sharedDataDir(t: ExecutionContext): string {
  const dataDir = mkdtempSync(join(tmpdir(), 'shipyard-main-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  return dataDir;
}

/**
 * Ends the server when its stdin closes: when the test runner is gone without running the
 * teardowns (its own timeout stops a test file's worker thread, whose children live on).
 */
const EXIT_WITH_PARENT = `data:text/javascript,${encodeURIComponent("process.stdin.on('end', () => process.exit(1)).resume();")}`;

/** Spawns the server process; `t.teardown` kills it if it still runs. */
function spawnServer(t: ExecutionContext, env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, ['--import', EXIT_WITH_PARENT, MAIN], {
    env: { PATH: process.env.PATH ?? '', RUNTIME: 'simulated', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  t.teardown(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGKILL');
    await exited;
  });
  return child;
}

/**
 * Starts the real server process on a free port, with a throwaway DATA_DIR (removed when it
 * exits) unless `dataDir` names one to keep.
 */
async function start(t: ExecutionContext, env: Record<string, string> = {}, dataDir?: string): Promise<Started> {
  const directory = dataDir ?? mkdtempSync(join(tmpdir(), 'shipyard-main-'));
  const child = spawnServer(t, { PORT: '0', HOST: '127.0.0.1', DATA_DIR: directory, LOG_LEVEL: 'info', ...env });
  const lines: Record<string, unknown>[] = [];
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      if (dataDir === undefined) rmSync(directory, { recursive: true, force: true });
      resolve(code);
    }),
  );
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += String(chunk);
  });
  const port = await new Promise<number>((resolve, reject) => {
    let buffer = '';
    child.stdout?.on('data', (chunk) => {
      buffer += String(chunk);
      let newline = buffer.indexOf('\n');
      while (newline >= 0) {
        const line = JSON.parse(buffer.slice(0, newline)) as Record<string, unknown>;
        lines.push(line);
        if (typeof line.port === 'number' && line.port > 0) resolve(line.port);
        buffer = buffer.slice(newline + 1);
        newline = buffer.indexOf('\n');
      }
    });
    void exited.then((code) => reject(new Error(`server exited with ${code}: ${stderr}`)));
  });
  return { child, port, lines, exited };
}

test('the server starts with no configuration, answers /health, and stops cleanly on SIGTERM', async (t) => {
  t.timeout(SERVER_TEST_TIMEOUT);
  const server = await start(t);
  const base = `http://127.0.0.1:${server.port}`;
  const health = await fetch(`${base}/health`);
  t.is(health.status, 200);
  t.is(((await health.json()) as { status: string }).status, 'healthy');
  const listening = server.lines.find((l) => typeof l.port === 'number');
  t.truthy(listening?.database, 'the start-up log says which database is used');
  t.truthy(listening?.queue, 'the start-up log says which queue is used');
  t.regex(String(listening?.docs), /\/docs$/);
  t.true(
    server.lines.some((l) => String(l.msg).includes('JWT_SECRET is not set')),
    'generated secrets are warned about',
  );

  server.child.kill('SIGTERM');
  t.is(await server.exited, 0);
  t.true(server.lines.some((l) => l.msg === 'stopped'));
});

/**
 * Runs the server process to its exit; returns the exit code and everything it printed. A server
 * that starts listening instead is stopped (`listened`), so a test expecting a refusal fails fast.
 */
async function runToExit(
  t: ExecutionContext,
  env: Record<string, string>,
): Promise<{ code: number | null; output: string; listened: boolean }> {
  const child = spawnServer(t, env);
  let output = '';
  let listened = false;
  const collect = (chunk: unknown) => {
    output += String(chunk);
    if (!listened && output.includes('Shipyard API listening')) {
      listened = true;
      child.kill('SIGTERM');
    }
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { code, output, listened };
}

test('a bad variable stops the process with a message naming it', async (t) => {
  const { code, output } = await runToExit(t, { PORT: 'eighty', ACCESS_TOKEN_TTL: 'soon' });
  t.is(code, 1);
  t.regex(output, /PORT/);
  t.regex(output, /ACCESS_TOKEN_TTL/);
});

test('production refuses to start without JWT_SECRET and ENCRYPTION_KEYS', async (t) => {
  const { code, output } = await runToExit(t, { NODE_ENV: 'production', PORT: '0' });
  t.is(code, 1);
  t.regex(output, /JWT_SECRET/);
  t.regex(output, /ENCRYPTION_KEYS/);
});

test('with pending migrations on PostgreSQL the server refuses to start, naming the fix', async (t) => {
  t.timeout(SERVER_TEST_TIMEOUT);
  const { createScratchPostgres } = await import('@shipyard/adapters-db/testing');
  const scratch = await createScratchPostgres();
  const dataDir = mkdtempSync(join(tmpdir(), 'shipyard-main-'));
  t.teardown(async () => {
    rmSync(dataDir, { recursive: true, force: true });
    await scratch.drop();
  });
  for (const env of <Record<string, string>[]>[
    {
      NODE_ENV: 'production',
      JWT_SECRET: 'x'.repeat(40),
      ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 1).toString('base64')}`,
    },
    { NODE_ENV: 'development' },
  ]) {
    const { code, output } = await runToExit(t, { PORT: '0', DATA_DIR: dataDir, DATABASE_URL: scratch.url, ...env });
    t.is(code, 1);
    t.regex(output, /migration\(s\) pending/);
    t.regex(output, /npm run migrate/);
  }
});

/** The pid a lock file names. */
const lockOwner = (lockFile: string): number | undefined =>
  (JSON.parse(readFileSync(lockFile, 'utf8')) as { pid?: number }).pid;

/** Registers a tenant on a running server; returns its owner's access token. */
async function register(base: string, tenant: string): Promise<string> {
  const response = await fetch(`${base}/api/v1/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ tenant_name: tenant, email: `owner@${tenant}.test`, password: 'correct horse battery' }),
  });
  if (response.status !== 201) throw new Error(`register: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { access_token: string }).access_token;
}

async function createProjects(base: string, token: string, count: number): Promise<void> {
  for (let index = 1; index <= count; index += 1) {
    const response = await fetch(`${base}/api/v1/projects`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ name: `project ${index}` }),
    });
    if (response.status !== 201) throw new Error(`create project: ${response.status} ${await response.text()}`);
  }
}

async function projectTotal(base: string, token: string): Promise<number> {
  const response = await fetch(`${base}/api/v1/projects`, { headers: { authorization: `Bearer ${token}` } });
  if (response.status !== 200) throw new Error(`list projects: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { total: number }).total;
}

test('one server owns a DATA_DIR: a second is refused naming the lock and the first, whose data survives its restart', async (t) => {
  t.timeout(SERVER_TEST_TIMEOUT);
  const dataDir = sharedDataDir(t);
  const lockFile = join(dataDir, 'pglite.lock');
  const first = await start(t, {}, dataDir);
  const token = await register(`http://127.0.0.1:${first.port}`, 'owner');
  await createProjects(`http://127.0.0.1:${first.port}`, token, 5);
  t.is(lockOwner(lockFile), first.child.pid);

  const second = await runToExit(t, { PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'info' });
  t.false(second.listened, 'the second server does not start');
  t.is(second.code, 1);
  const fatal = second.output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { level: number; msg: string })
    .filter((line) => line.level === 60);
  t.is(fatal.length, 1, second.output);
  t.true(fatal[0]?.msg.includes(lockFile), second.output);
  t.true(fatal[0]?.msg.includes(`process ${first.child.pid} `), second.output);
  t.false(second.output.includes('    at '), 'no stack');
  t.is(await projectTotal(`http://127.0.0.1:${first.port}`, token), 5, 'the first server is untouched');

  first.child.kill('SIGTERM');
  t.is(await first.exited, 0);
  t.false(existsSync(lockFile), 'a clean stop releases the lock');

  const again = await start(t, {}, dataDir);
  t.is(await projectTotal(`http://127.0.0.1:${again.port}`, token), 5);
  again.child.kill('SIGTERM');
  t.is(await again.exited, 0);
});

test('after kill -9 of the server another starts at once on its DATA_DIR, with its data', async (t) => {
  t.timeout(SERVER_TEST_TIMEOUT);
  const dataDir = sharedDataDir(t);
  const lockFile = join(dataDir, 'pglite.lock');
  const killed = await start(t, {}, dataDir);
  const token = await register(`http://127.0.0.1:${killed.port}`, 'crash');
  await createProjects(`http://127.0.0.1:${killed.port}`, token, 5);
  killed.child.kill('SIGKILL');
  t.is(await killed.exited, null);
  t.true(existsSync(lockFile), 'SIGKILL leaves the lock behind');

  const next = await start(t, {}, dataDir);
  t.true(
    next.lines.some((line) => String(line.msg).includes(`took over the lock of process ${killed.child.pid}`)),
    'the stale lock is taken over, with a warning',
  );
  t.is(lockOwner(lockFile), next.child.pid);
  t.is(await projectTotal(`http://127.0.0.1:${next.port}`, token), 5);
  next.child.kill('SIGTERM');
  t.is(await next.exited, 0);
});

test('with METRICS_PORT the server serves /metrics on that port only, and closes it on SIGTERM', async (t) => {
  t.timeout(SERVER_TEST_TIMEOUT);
  const server = await start(t, { METRICS_PORT: '0' });
  const listening = server.lines.find((l) => typeof l.port === 'number');
  const metricsPort = listening?.metrics_port;
  t.is(typeof metricsPort, 'number');
  t.is(listening?.metrics, `http://127.0.0.1:${metricsPort}/metrics`);
  t.is((await fetch(`http://127.0.0.1:${server.port}/health`)).status, 200);
  t.is((await fetch(`http://127.0.0.1:${server.port}/metrics`)).status, 404);
  const scraped = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
  t.is(scraped.status, 200);
  t.regex(await scraped.text(), /shipyard_http_requests_total\{method="GET",route="\/health",status_code="200"\} 1/);

  server.child.kill('SIGTERM');
  t.is(await server.exited, 0);
  await t.throwsAsync(fetch(`http://127.0.0.1:${metricsPort}/metrics`), undefined, 'the metrics listener is closed');
});

test('a metrics port in use stops the start with a message naming METRICS_PORT', async (t) => {
  const { createServer } = await import('node:net');
  const taken = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => taken.once('listening', resolve));
  t.teardown(() => taken.close());
  const port = (taken.address() as { port: number }).port;
  const dataDir = sharedDataDir(t);
  const { code, output, listened } = await runToExit(t, {
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    METRICS_PORT: String(port),
  });
  t.false(listened);
  t.is(code, 1);
  t.regex(output, /metrics listener cannot listen on 127\.0\.0\.1:\d+ \(EADDRINUSE\): set METRICS_PORT/);
  t.false(existsSync(join(dataDir, 'pglite.lock')), 'the embedded database was closed first');
});
