/**
 * Each example runs with the command its README gives (read from the README's "## Run" section,
 * so the README cannot go stale): a one-shot example exits 0 and prints its line; a server answers
 * its health route, then stops cleanly on SIGTERM. Every command runs in a process group of its own
 * that is killed whole afterwards, with a minimal environment and nothing that reaches the network
 * (simulated runtime, embedded database, npm offline).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import test, { type ExecutionContext } from 'ava';
import { ROOT, readRepoFile } from './repo.js';

/** The first line of the first `sh` block under "## Run", without a trailing comment. */
export function documentedCommand(readme: string): string {
  const section = /^## Run\s*$([\s\S]*?)(?=^## |(?![\s\S]))/m.exec(readme)?.[1];
  if (section === undefined) throw new Error('The README has no "## Run" section');
  const line = /```sh\n([^\n]+)\n/.exec(section)?.[1];
  if (line === undefined) throw new Error('The "## Run" section has no ```sh block');
  return line.replace(/\s+#.*$/, '').trim();
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });

/** The pids of a process group and their parents (Linux /proc). */
function groupProcesses(pgid: number): { pid: number; ppid: number }[] {
  const found: { pid: number; ppid: number }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid pgrp …: comm may hold spaces and parentheses.
      const [, ppid, pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pgrp) === pgid) found.push({ pid: Number(entry), ppid: Number(ppid) });
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

interface Run {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Runs a documented command through `sh -c` as the leader of a new process group. The teardown
 * kills the whole group and checks that none of it is left.
 */
function run(t: ExecutionContext, command: string, cwd: string, env: Record<string, string>): Run {
  const home = mkdtempSync(join(tmpdir(), 'shipyard-example-home-'));
  const child = spawn('/bin/sh', ['-c', command], {
    cwd,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH ?? '',
      HOME: home,
      LANG: 'C.UTF-8',
      npm_config_offline: 'true',
      npm_config_update_notifier: 'false',
      npm_config_fund: 'false',
      npm_config_audit: 'false',
      ...env,
    },
  });
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += String(chunk);
  });
  child.stderr?.on('data', (chunk) => {
    output += String(chunk);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const pgid = child.pid as number;
  t.teardown(async () => {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // the group is gone already
    }
    let left = groupProcesses(pgid);
    for (let i = 0; i < 50 && left.length > 0; i++) {
      await sleep(100);
      left = groupProcesses(pgid);
    }
    rmSync(home, { recursive: true, force: true });
    if (left.length > 0) throw new Error(`Left running: ${left.map((p) => p.pid).join(', ')}`);
  });
  return { child, output: () => output, exited };
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string, output: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms\n${output()}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `url` until it answers 200. */
async function waitFor200(url: string, started: Run, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  let exited = false;
  void started.exited.then(() => {
    exited = true;
  });
  while (Date.now() < deadline) {
    if (exited) throw new Error(`It exited before answering ${url}:\n${started.output()}`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  throw new Error(`${url} did not answer 200 within ${ms} ms:\n${started.output()}`);
}

/**
 * SIGTERM to the program at the bottom of the chain (the server under npm and sh), so it shuts
 * down as it would under a process manager; the shells and npm above it then end with its code.
 */
function terminateServer(started: Run): void {
  const group = groupProcesses(started.child.pid as number);
  const parents = new Set(group.map((p) => p.ppid));
  for (const leaf of group.filter((p) => !parents.has(p.pid))) process.kill(leaf.pid, 'SIGTERM');
}

const readme = (example: string) => readRepoFile(`examples/${example}/README.md`);

test.serial('examples/embedded-core: its command exits 0 and prints the build and deployment outcome', async (t) => {
  t.timeout(180_000);
  const command = documentedCommand(readme('embedded-core'));
  const started = run(t, command, ROOT, {});
  const { code } = await withTimeout(started.exited, 170_000, command, started.output);
  t.is(code, 0, started.output());
  t.regex(started.output(), /build: 'succeeded'/);
  t.regex(started.output(), /deployment: 'live'/);
});

test.serial('examples/test-harness: its command runs its tests, which pass', async (t) => {
  t.timeout(180_000);
  const command = documentedCommand(readme('test-harness'));
  const started = run(t, command, ROOT, {});
  const { code } = await withTimeout(started.exited, 170_000, command, started.output);
  t.is(code, 0, started.output());
  t.regex(started.output(), /\b[1-9]\d* tests? passed\b/);
  t.notRegex(started.output(), /\bfailed\b/);
});

test.serial('examples/koa-server: its command serves /health, and SIGTERM stops it cleanly', async (t) => {
  t.timeout(240_000);
  const command = documentedCommand(readme('koa-server'));
  const dataDir = mkdtempSync(join(tmpdir(), 'shipyard-example-data-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const port = await freePort();
  const started = run(t, command, ROOT, {
    PORT: String(port),
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    RUNTIME: 'simulated',
    LOG_LEVEL: 'info',
  });
  await waitFor200(`http://127.0.0.1:${port}/health`, started, 200_000);
  t.regex(started.output(), new RegExp(`Shipyard API listening on 127\\.0\\.0\\.1:${port}`));
  terminateServer(started);
  const { code } = await withTimeout(started.exited, 30_000, 'after SIGTERM', started.output);
  t.is(code, 0, started.output());
  t.regex(started.output(), /"msg":"stopped"/);
});

test.serial(
  'examples/sample-app: its command builds it, serves /healthz and the greeting, and SIGTERM stops it',
  async (t) => {
    t.timeout(120_000);
    const command = documentedCommand(readme('sample-app'));
    // The build writes build-info.json into the app's folder: run it on a copy, not the source tree.
    const root = mkdtempSync(join(tmpdir(), 'shipyard-example-sample-'));
    t.teardown(() => rmSync(root, { recursive: true, force: true }));
    cpSync(join(ROOT, 'examples/sample-app'), join(root, 'examples/sample-app'), {
      recursive: true,
      filter: (source) => !source.endsWith('build-info.json'),
    });
    const port = await freePort();
    const started = run(t, command, root, { PORT: String(port), GREETING: 'Ahoy' });
    await waitFor200(`http://127.0.0.1:${port}/healthz`, started, 100_000);
    const page = await (await fetch(`http://127.0.0.1:${port}/`)).text();
    t.regex(page, /^Ahoy from the Shipyard sample app! \(built \d{4}-/);
    t.regex(started.output(), /build: wrote build-info\.json/);
    t.regex(started.output(), new RegExp(`sample app listening on ${port}`));
    terminateServer(started);
    const { code } = await withTimeout(started.exited, 30_000, 'after SIGTERM', started.output);
    t.is(code, 0, started.output());
  },
);

test('every example folder has a README with a command', (t) => {
  const examples = readdirSync(join(ROOT, 'examples'), { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  t.deepEqual(
    examples,
    ['embedded-core', 'koa-server', 'sample-app', 'test-harness'],
    'a new example gets a test here',
  );
  for (const example of examples) t.notThrows(() => documentedCommand(readme(example)), example);
});
