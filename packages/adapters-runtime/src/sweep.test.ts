import { chmod, mkdir, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { LocalBuildRunner } from './local-build-runner.js';
import { tempDir } from './testing/fixture-repo.js';

test('the sweep deletes old build directories no artifact names, and keeps named and recent ones', async (t) => {
  const { dir, cleanup } = await tempDir('shipyard-sweep-');
  t.teardown(cleanup);
  await chmod(dir, 0o755);
  const runner = new LocalBuildRunner({ workRoot: dir });
  const builds = join(dir, 'builds');
  const make = async (name: string, ageMs: number) => {
    const path = join(builds, name);
    await mkdir(path, { recursive: true });
    await writeFile(join(path, 'server.js'), '');
    const at = new Date(Date.now() - ageMs);
    await utimes(path, at, at);
    return path;
  };
  const DAY = 86_400_000;
  const orphan = await make('orphan-1', 2 * DAY);
  const kept = await make('kept-1', 2 * DAY);
  const recent = await make('running-1', 1000);
  const removed = await runner.sweepArtifacts(
    [
      { kind: 'directory', path: kept },
      { kind: 'image', ref: 'registry.test/x' },
    ],
    new Date(Date.now() - DAY),
  );
  t.is(removed, 1);
  await t.throwsAsync(stat(orphan), { code: 'ENOENT' });
  t.true((await stat(kept)).isDirectory());
  t.true((await stat(recent)).isDirectory(), 'a build still being made is newer than the cutoff');
  t.is(await new LocalBuildRunner({ workRoot: join(dir, 'none') }).sweepArtifacts([], new Date()), 0);
});
