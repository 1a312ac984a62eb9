import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { BuildRequest } from '@shipyard/core';
import test from 'ava';
import { LocalBuildRunner } from './local-build-runner.js';
import { groupAlive } from './process-group.js';
import { RepoUnreachableError } from './repo-source.js';
import {
  artifactPath,
  type FixtureRepo,
  fixtureBuildRequest,
  fixtureRepoHooks,
  OFFLINE_NPM,
} from './testing/fixture-repo.js';

// Only in this test process: a build must never see it.
process.env.JWT_SECRET = 'server-only-secret-of-the-test-process';

let root: { dir: string; cleanup: () => Promise<void> };
let repo: FixtureRepo;

fixtureRepoHooks(test, (made) => {
  ({ root, repo } = made);
});

const buildRequest = (overrides: Partial<BuildRequest> = {}): BuildRequest => fixtureBuildRequest(repo, overrides);

function runner(options: { allowLocalRepos?: boolean } = {}): LocalBuildRunner {
  return new LocalBuildRunner({
    workRoot: join(root.dir, 'work'),
    allowLocalRepos: options.allowLocalRepos ?? true,
    killGraceMs: 1_000,
  });
}

const never = new AbortController().signal;

test('the detected build (npm ci, npm run build) streams its lines in order while it runs', async (t) => {
  const gate = join(root.dir, `gate-${Date.now()}`);
  const lines: string[] = [];
  let settled = false;
  let sawFirstWhileRunning = false;
  const timeout = AbortSignal.timeout(30_000);
  const run = runner().run(
    buildRequest({ env: { ...OFFLINE_NPM, BUILD_GATE: gate, GREETING: 'hello from the service' } }),
    (line) => {
      lines.push(line);
      if (line === 'build: step 1') {
        sawFirstWhileRunning = !settled;
        // The build waits for this file: had the line been held back until the end, it would never end.
        void writeFile(gate, 'go');
      }
    },
    timeout,
  );
  const outcome = await run.finally(() => {
    settled = true;
  });
  t.true(sawFirstWhileRunning);
  t.is(outcome.outcome, 'succeeded');
  const steps = lines.filter((line) => line.startsWith('build: '));
  t.deepEqual(steps, ['build: step 1', 'build: step 2', 'build: step 3 (stderr)']);
  t.true(lines.some((line) => line.includes('Running the detected build: npm ci && npm run build')));
  t.is(lines.at(-1), '==> Build succeeded');
  if (outcome.outcome !== 'succeeded') return;
  t.is(outcome.artifact.kind, 'directory');
  const output = JSON.parse(await readFile(join(artifactPath(outcome.artifact), 'build-output.json'), 'utf8'));
  t.deepEqual(output, { version: 'v2', greeting: 'hello from the service', jwtSecret: null });
});

test('a commit that is not the branch tip is checked out', async (t) => {
  const outcome = await runner().run(
    buildRequest({ commitSha: repo.commits[0], buildCommand: 'cat version.json' }),
    () => {},
    never,
  );
  t.is(outcome.outcome, 'succeeded');
  if (outcome.outcome !== 'succeeded') return;
  t.deepEqual(JSON.parse(await readFile(join(artifactPath(outcome.artifact), 'version.json'), 'utf8')), {
    version: 'v1',
  });
});

test('a failing build command is failed, with the tail of its log as the error', async (t) => {
  const lines: string[] = [];
  const outcome = await runner().run(
    buildRequest({ buildCommand: 'echo compiling; echo "boom: the last words" >&2; exit 3' }),
    (line) => lines.push(line),
    never,
  );
  t.is(outcome.outcome, 'failed');
  if (outcome.outcome !== 'failed') return;
  t.regex(outcome.error, /exited with code 3/);
  t.regex(outcome.error, /\ncompiling(\n|$)/);
  t.regex(outcome.error, /\nboom: the last words(\n|$)/);
  t.true(lines.includes('boom: the last words'));
});

test('an unknown commit is failed, not retried', async (t) => {
  const outcome = await runner().run(buildRequest({ commitSha: 'deadbeef', buildCommand: 'true' }), () => {}, never);
  t.like(outcome, { outcome: 'failed', error: 'Commit deadbeef is not in the repository' });
});

test('an unknown branch is failed, not retried', async (t) => {
  const outcome = await runner().run(buildRequest({ branch: 'no-such-branch' }), () => {}, never);
  t.is(outcome.outcome, 'failed');
  if (outcome.outcome === 'failed') t.regex(outcome.error, /git clone failed/);
});

test('an abort during the build kills its whole process group and leaves no directory', async (t) => {
  const controller = new AbortController();
  let pgid = 0;
  const request = buildRequest({
    // A background job and a foreground one: killing only the shell would leave both running.
    buildCommand: 'echo "pgid $$"; sleep 30 & node -e "setInterval(() => {}, 1000)"',
  });
  const reason = new Error('cancelled by the test');
  const run = runner().run(
    request,
    (line) => {
      const match = /^pgid (\d+)$/.exec(line);
      if (match) {
        pgid = Number(match[1]);
        setTimeout(() => controller.abort(reason), 200);
      }
    },
    controller.signal,
  );
  const error = await t.throwsAsync(run);
  t.is(error, reason);
  t.true(pgid > 0);
  t.false(groupAlive(pgid));
  t.false(existsSync(join(root.dir, 'work', 'builds', `${request.buildId}-1`)));
});

test('file:// is refused unless local repositories are allowed', async (t) => {
  const lines: string[] = [];
  const request = buildRequest();
  const outcome = await runner({ allowLocalRepos: false }).run(request, (line) => lines.push(line), never);
  t.like(outcome, { outcome: 'failed', error: 'file:// repositories are not allowed (ALLOW_LOCAL_REPOS is off)' });
  t.false(existsSync(join(root.dir, 'work', 'builds', `${request.buildId}-1`)));
});

for (const repoUrl of [
  '--upload-pack=touch /tmp/pwned',
  '-oProxyCommand=touch /tmp/pwned',
  'ssh://-oProxyCommand=touch%20pwned/repo.git',
  'git@github.com:owner/repo.git',
  'ext::sh -c touch% /tmp/pwned',
  'https://-oProxyCommand/repo.git',
  'https://127.0.0.1/repo.git',
  'https://2130706433/repo.git',
  'https://169.254.169.254/latest/meta-data',
  'https://10.1.2.3/repo.git',
  'https://[::1]/repo.git',
  'https://[::ffff:127.0.0.1]/repo.git',
  'https://localhost/repo.git',
  'http://example.com/repo.git',
]) {
  test(`refused without reaching git: ${repoUrl}`, async (t) => {
    const lines: string[] = [];
    const outcome = await runner({ allowLocalRepos: false }).run(
      buildRequest({ repoUrl }),
      (line) => lines.push(line),
      never,
    );
    t.is(outcome.outcome, 'failed');
    t.is(lines.length, 1);
    t.true(lines[0]?.startsWith('==> Refused: '));
    t.false(existsSync('/tmp/pwned'));
  });
}

for (const branch of ['--upload-pack=touch /tmp/pwned', '-b', 'a..b', 'main branch', 'x@{1}']) {
  test(`refused branch: ${branch}`, async (t) => {
    const outcome = await runner().run(buildRequest({ branch }), () => {}, never);
    t.is(outcome.outcome, 'failed');
    if (outcome.outcome === 'failed') t.regex(outcome.error, /Invalid branch name/);
  });
}

test('an option-like commit id is refused', async (t) => {
  const outcome = await runner().run(buildRequest({ commitSha: '--output=/tmp/pwned' }), () => {}, never);
  t.like(outcome, { outcome: 'failed' });
  if (outcome.outcome === 'failed') t.regex(outcome.error, /Invalid commit id/);
});

test('credentials in the URL go to git as a header, never into a log line or the error', async (t) => {
  const seen: Array<string | undefined> = [];
  const server = createServer((req, res) => {
    seen.push(req.headers.authorization);
    res.statusCode = 404;
    res.end('not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as AddressInfo;
  const lines: string[] = [];
  const outcome = await runner().run(
    buildRequest({ repoUrl: `http://deploy:s3cr3t-token@127.0.0.1:${port}/owner/repo.git` }),
    (line) => lines.push(line),
    never,
  );
  t.is(outcome.outcome, 'failed');
  t.true(seen.includes(`Basic ${Buffer.from('deploy:s3cr3t-token').toString('base64')}`));
  const everything = [...lines, outcome.outcome === 'failed' ? outcome.error : ''].join('\n');
  t.true(everything.includes(`http://127.0.0.1:${port}/owner/repo.git`));
  t.false(everything.includes('s3cr3t-token'));
  t.false(everything.includes(Buffer.from('deploy:s3cr3t-token').toString('base64')));
});

test('a git host that cannot be reached rejects (an infrastructure failure, retried)', async (t) => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const error = await t.throwsAsync(
    runner().run(buildRequest({ repoUrl: `http://user:hunter2-secret@127.0.0.1:${port}/repo.git` }), () => {}, never),
  );
  t.true(error instanceof RepoUnreachableError);
  t.false(error?.message.includes('hunter2-secret'));
});

test('discardArtifact deletes a build directory of this runner, and nothing else', async (t) => {
  const builds = runner();
  const outcome = await builds.run(buildRequest({ buildCommand: 'true' }), () => {}, never);
  if (outcome.outcome !== 'succeeded') return t.fail(outcome.error);
  const path = artifactPath(outcome.artifact);
  t.true(existsSync(path));
  await builds.discardArtifact(outcome.artifact);
  t.false(existsSync(path));
  await builds.discardArtifact(outcome.artifact); // already gone: no error

  const work = join(root.dir, 'work');
  const outside = join(root.dir, 'not-an-artifact');
  await mkdir(outside, { recursive: true });
  for (const refused of [
    outside,
    work,
    join(work, 'builds'),
    join(work, 'home'),
    join(work, 'builds', '..', 'home'),
    join(work, 'builds', 'a', 'b'),
    '/',
  ]) {
    await t.throwsAsync(builds.discardArtifact({ kind: 'directory', path: refused }), { instanceOf: TypeError });
  }
  await t.throwsAsync(builds.discardArtifact({ kind: 'image', ref: 'registry/app:1' }), { instanceOf: TypeError });
  t.true(existsSync(outside));
  t.true(existsSync(join(work, 'home')));
});
