import { chmod, cp, mkdir, mkdtemp, readdir, readlink, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BuildArtifact, BuildRequest } from '@shipyard/core';
import { execa } from 'execa';

/**
 * A temporary directory, removed by `cleanup`. Open for traversal (0755, where mkdtemp makes
 * 0700): when the tests run as root, builds and apps run as unprivileged uids and must reach
 * the work roots and the fixture repository inside it.
 */
export async function tempDir(prefix = 'shipyard-runtime-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  await chmod(dir, 0o755);
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** The directory of a local build's artifact (a test's shortcut: the local runner makes no images). */
export function artifactPath(artifact: BuildArtifact): string {
  if (artifact.kind !== 'directory') throw new TypeError(`Not a directory artifact: ${artifact.ref}`);
  return artifact.path;
}

const PACKAGE_JSON = {
  name: 'fixture-app',
  version: '1.0.0',
  private: true,
  scripts: { build: 'node build.js', start: 'node server.js' },
};

const PACKAGE_LOCK = {
  name: 'fixture-app',
  version: '1.0.0',
  lockfileVersion: 3,
  requires: true,
  packages: { '': { name: 'fixture-app', version: '1.0.0' } },
};

/**
 * Prints three lines; when BUILD_GATE names a file, it waits for that file between the first and
 * the second, so a test can prove it saw the first line while the build was still running.
 */
const BUILD_JS = `
const fs = require('node:fs');
console.log('build: step 1');
const gate = process.env.BUILD_GATE;
const until = Date.now() + 20000;
function next() {
  if (gate && !fs.existsSync(gate) && Date.now() < until) return setTimeout(next, 20);
  console.log('build: step 2');
  setTimeout(() => {
    fs.writeFileSync('build-output.json', JSON.stringify({
      version: require('./version.json').version,
      greeting: process.env.GREETING ?? null,
      jwtSecret: process.env.JWT_SECRET ?? null,
    }));
    console.error('build: step 3 (stderr)');
  }, 50);
}
next();
`;

/** Answers with JSON of what it sees; /health is 500 when HEALTH_FAIL=1; logs a line per request. */
const SERVER_JS = `
const http = require('node:http');
const fs = require('node:fs');
const version = require('./version.json').version;
const server = http.createServer((req, res) => {
  console.log('request ' + req.method + ' ' + req.url);
  if (req.url === '/health') {
    res.statusCode = process.env.HEALTH_FAIL === '1' ? 500 : 200;
    return res.end('ok');
  }
  const build = fs.existsSync('build-output.json') ? JSON.parse(fs.readFileSync('build-output.json', 'utf8')) : null;
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({
    version,
    pid: process.pid,
    port: process.env.PORT,
    greeting: process.env.GREETING ?? null,
    jwtSecret: process.env.JWT_SECRET ?? null,
    databaseUrl: process.env.DATABASE_URL ?? null,
    forwardedHost: req.headers['x-forwarded-host'] ?? null,
    build,
  }));
});
server.listen(Number(process.env.PORT), () => console.log('listening on ' + process.env.PORT));
`;

export interface FixtureRepo {
  /** `file://` URL of the bare repository. */
  url: string;
  /** The commits of `main`, oldest first: the first has version v1, the tip v2. */
  commits: [string, string];
}

const GIT_ENV = {
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 'Fixture',
  GIT_AUTHOR_EMAIL: 'fixture@example.invalid',
  GIT_COMMITTER_NAME: 'Fixture',
  GIT_COMMITTER_EMAIL: 'fixture@example.invalid',
};

/**
 * A bare git repository in `root` holding a tiny Node HTTP app with no dependencies: a build
 * script that prints lines (slowly when gated) and writes a file, and a server on $PORT.
 */
export async function createFixtureRepo(root: string): Promise<FixtureRepo> {
  const work = join(root, 'fixture-work');
  const bare = join(root, 'fixture.git');
  await mkdir(work, { recursive: true });
  const git = (args: string[], cwd = work) => execa('git', args, { cwd, env: GIT_ENV });
  await git(['init', '--quiet', '--initial-branch', 'main']);
  await writeFile(join(work, 'package.json'), `${JSON.stringify(PACKAGE_JSON, null, 2)}\n`);
  await writeFile(join(work, 'package-lock.json'), `${JSON.stringify(PACKAGE_LOCK, null, 2)}\n`);
  await writeFile(join(work, 'build.js'), BUILD_JS);
  await writeFile(join(work, 'server.js'), SERVER_JS);
  await writeFile(join(work, 'version.json'), '{ "version": "v1" }\n');
  await git(['add', '--all']);
  await git(['commit', '--quiet', '--message', 'v1']);
  await writeFile(join(work, 'version.json'), '{ "version": "v2" }\n');
  await git(['commit', '--quiet', '--all', '--message', 'v2']);
  const { stdout } = await git(['rev-list', '--reverse', 'main']);
  const [first, second] = stdout.split('\n') as [string, string];
  await git(['clone', '--quiet', '--bare', work, bare], root);
  return { url: pathToFileURL(bare).href, commits: [first, second] };
}

/**
 * A bare git repository in `root` (named `<name>.git`) of one commit holding a copy of `source`,
 * a directory of this machine (`node_modules` and `.git` left out): an app of the repository's
 * examples, made clonable without a network. Its `file://` URL.
 */
export async function createRepoFromDirectory(source: string, root: string, name: string): Promise<string> {
  const work = join(root, `${name}-work`);
  const bare = join(root, `${name}.git`);
  await cp(source, work, {
    recursive: true,
    filter: (path) => !/(^|\/)(node_modules|\.git)(\/|$)/.test(path.slice(source.length)),
  });
  const git = (args: string[], cwd = work) => execa('git', args, { cwd, env: GIT_ENV });
  await git(['init', '--quiet', '--initial-branch', 'main']);
  await git(['add', '--all']);
  await git(['commit', '--quiet', '--message', `${name}`]);
  await git(['clone', '--quiet', '--bare', work, bare], root);
  return pathToFileURL(bare).href;
}

/** Env for a fixture build that keeps npm off the network. */
let requestSequence = 0;

/**
 * A build request of the fixture: a fresh build id each time, the tip of `main` with the detected
 * build unless `overrides` say otherwise, npm kept offline.
 */
export function fixtureBuildRequest(repo: FixtureRepo, overrides: Partial<BuildRequest> = {}): BuildRequest {
  requestSequence += 1;
  return {
    tenantId: 'tenant-1',
    buildId: `build-${requestSequence}`,
    serviceId: '1a2b3c4d-0000-4000-8000-000000000001',
    attempt: 1,
    repoUrl: repo.url,
    branch: 'main',
    commitSha: null,
    buildCommand: null,
    ...overrides,
    env: { ...OFFLINE_NPM, ...overrides.env },
  };
}

export const OFFLINE_NPM = {
  npm_config_offline: 'true',
  npm_config_update_notifier: 'false',
  npm_config_fund: 'false',
};

/** A GET on 127.0.0.1:`port` with the given Host header. */
export function get(port: number, host: string, path = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host }, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * Kills every process whose working directory is under `dir` (with its group) and returns their
 * pids: a test suite's last check that it left nothing running. Linux only (reads /proc).
 */
export async function killProcessesUnder(dir: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    const cwd = await readlink(`/proc/${entry}/cwd`).catch(() => null);
    if (cwd !== null && (cwd === dir || cwd.startsWith(`${dir}/`))) found.push(Number(entry));
  }
  for (const pid of found) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
  }
  return found;
}

/** A test runner's hooks (ava's `test`), as far as `fixtureRepoHooks` needs them. */
interface Hooks {
  before(fn: () => Promise<void>): void;
  after: { always(fn: () => Promise<void>): void };
}

/**
 * Makes a temporary directory with the fixture repository before the file's tests, and after them
 * kills whatever they left running under it (failing the run if anything was) and removes it.
 */
export function fixtureRepoHooks(
  test: Hooks,
  made: (fixture: { root: { dir: string; cleanup: () => Promise<void> }; repo: FixtureRepo }) => void,
): void {
  let root: { dir: string; cleanup: () => Promise<void> } | undefined;
  test.before(async () => {
    root = await tempDir();
    made({ root, repo: await createFixtureRepo(root.dir) });
  });
  test.after.always(async () => {
    const leftovers = root === undefined ? [] : await killProcessesUnder(root.dir);
    await root?.cleanup();
    if (leftovers.length > 0) throw new Error(`Processes left running by the tests: ${leftovers.join(', ')}`);
  });
}
