import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { ServiceIdentities } from './service-identities.js';
import { RuntimeSetupError } from './setup-error.js';
import { tempDir } from './testing/fixture-repo.js';

let root: { dir: string; cleanup: () => Promise<void> };
let sequence = 0;

test.before(async () => {
  root = await tempDir();
});

test.after.always(async () => {
  await root?.cleanup();
});

/** A fresh work root (and, with `files`, a passwd/group of this test's). */
async function workRoot(): Promise<string> {
  const dir = join(root.dir, `work-${++sequence}`);
  await mkdir(dir);
  return dir;
}

const noSystem = { systemFiles: [] as string[] };

test('uids are handed out in order from the base, gid = uid, and a service keeps its own', async (t) => {
  const identities = new ServiceIdentities({ workRoot: await workRoot(), ...noSystem });
  t.deepEqual(await identities.identityOf('service-a'), { uid: 200_000, gid: 200_000 });
  t.deepEqual(await identities.identityOf('service-b'), { uid: 200_001, gid: 200_001 });
  t.deepEqual(await identities.identityOf('service-a'), { uid: 200_000, gid: 200_000 });
  t.is(await identities.serviceOf(200_001), 'service-b');
  t.is(await identities.serviceOf(200_002), null);
  t.is(identities.describeRange(), '200000–299999');
});

test('the assignments are in <workRoot>/uids.json and survive a new instance (a restart)', async (t) => {
  const dir = await workRoot();
  const first = new ServiceIdentities({ workRoot: dir, ...noSystem });
  await first.identityOf('service-a');
  await first.identityOf('service-b');
  t.deepEqual(JSON.parse(await readFile(join(dir, 'uids.json'), 'utf8')), {
    version: 1,
    uids: { 'service-a': 200_000, 'service-b': 200_001 },
  });
  const restarted = new ServiceIdentities({ workRoot: dir, ...noSystem });
  t.deepEqual(await restarted.identityOf('service-b'), { uid: 200_001, gid: 200_001 });
  t.deepEqual(await restarted.identityOf('service-c'), { uid: 200_002, gid: 200_002 });
  // Written whole and renamed: no temporary file is left beside it.
  t.deepEqual(await readdir(dir), ['uids.json']);
});

test('allocations racing in one instance, and in two instances on one work root, never share a uid', async (t) => {
  const dir = await workRoot();
  const a = new ServiceIdentities({ workRoot: dir, ...noSystem });
  const b = new ServiceIdentities({ workRoot: dir, ...noSystem });
  const services = Array.from({ length: 30 }, (_, index) => `service-${index}`);
  // Each service asked for by both instances at once, every one at the same time.
  const answers = await Promise.all(
    services.flatMap((service) => [a.identityOf(service), b.identityOf(service), a.identityOf(service)]),
  );
  const byService = new Map<string, number>();
  services.forEach((service, index) => {
    const [x, y, z] = answers.slice(index * 3, index * 3 + 3);
    t.is(x?.uid, y?.uid);
    t.is(x?.uid, z?.uid);
    byService.set(service, x!.uid);
  });
  t.is(new Set(byService.values()).size, services.length);
  const { uids } = JSON.parse(await readFile(join(dir, 'uids.json'), 'utf8'));
  t.deepEqual(uids, Object.fromEntries(byService));
});

test("the machine's users and groups are skipped; the range is configurable and can run out", async (t) => {
  const dir = await workRoot();
  const passwd = join(dir, 'passwd');
  const group = join(dir, 'group');
  await writeFile(passwd, 'root:x:0:0:root:/root:/bin/sh\nsomeone:x:500:500::/home/someone:/bin/sh\n');
  await writeFile(group, 'root:x:0:\nsomegroup:x:501:\n');
  const identities = new ServiceIdentities({ workRoot: dir, base: 500, size: 4, systemFiles: [passwd, group] });
  t.is((await identities.identityOf('a')).uid, 502);
  t.is((await identities.identityOf('b')).uid, 503);
  const error = await t.throwsAsync(identities.identityOf('c'), { instanceOf: RuntimeSetupError });
  t.regex(error?.message ?? '', /Every uid of the range 500–503 is handed out/);
  t.is((await identities.identityOf('a')).uid, 502); // the known ones still are
});

test('an unreadable uids.json is refused, never started over', async (t) => {
  const dir = await workRoot();
  await writeFile(join(dir, 'uids.json'), '{ "version": 1, "uids": { "a": 200000, "b": 200000 } }');
  const error = await t.throwsAsync(new ServiceIdentities({ workRoot: dir }).identityOf('c'), {
    instanceOf: RuntimeSetupError,
  });
  t.regex(error?.message ?? '', /cannot be read \(uid 200000 is both a's and b's\)/);
  await writeFile(join(dir, 'uids.json'), 'not json');
  await t.throwsAsync(new ServiceIdentities({ workRoot: dir }).identityOf('a'), { instanceOf: RuntimeSetupError });
  t.is(await readFile(join(dir, 'uids.json'), 'utf8'), 'not json');
});

test('a bad range or service id is refused', async (t) => {
  const dir = await workRoot();
  t.throws(() => new ServiceIdentities({ workRoot: dir, base: 0 }), { instanceOf: RuntimeSetupError });
  t.throws(() => new ServiceIdentities({ workRoot: dir, base: 2 ** 32 - 10, size: 100 }), {
    instanceOf: RuntimeSetupError,
  });
  await t.throwsAsync(new ServiceIdentities({ workRoot: dir }).identityOf(''), { instanceOf: TypeError });
});
