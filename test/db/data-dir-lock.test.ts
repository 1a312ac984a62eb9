import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import {
  acquireDataDirLock,
  createDatabase,
  DataDirLockedError,
  type DataDirLockOwner,
  dataDirLockFile,
} from '@shipyard/adapters-db';
import test, { type ExecutionContext } from 'ava';
import { temporaryDirectory } from './helpers.js';

/** A directory for an embedded database (not created: the lock and PGlite create it). */
async function databaseDirectory(t: ExecutionContext): Promise<string> {
  const directory = await temporaryDirectory();
  t.teardown(() => directory.remove());
  return join(directory.path, 'pglite');
}

const readOwner = (lockFile: string): DataDirLockOwner =>
  JSON.parse(readFileSync(lockFile, 'utf8')) as DataDirLockOwner;

const writeOwner = (lockFile: string, owner: Partial<DataDirLockOwner>): void =>
  writeFileSync(lockFile, JSON.stringify({ hostname: hostname(), started_at: new Date().toISOString(), ...owner }));

/** Spawns a process and waits until it runs; `t.teardown` kills it. */
async function running(t: ExecutionContext, command: string, args: string[]): Promise<ChildProcess> {
  const child = spawn(command, args, { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  return child;
}

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('exit', resolve));
  if (child.pid === undefined) throw new Error('no pid');
  return child.pid;
}

/** Runs a Node script (an ES module) with the lock module of `@shipyard/adapters-db` as `db`. */
async function runScript(script: string): Promise<{ child: ChildProcess; exited: Promise<number | null> }> {
  // The module alone, not the package index: a child loading MikroORM takes seconds.
  const url = new URL('./data-dir-lock.js', import.meta.resolve('@shipyard/adapters-db')).href;
  // It ends when its stdin closes, should the test runner be gone without running the teardowns.
  const exitWithParent = "process.stdin.on('end', () => process.exit(1)).resume();";
  const child = spawn(
    process.execPath,
    ['--input-type=module', '-e', `import * as db from '${url}';\n${exitWithParent}\n${script}`],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited };
}

test('the lock is a file next to the directory naming this process; a second acquire here is refused', async (t) => {
  const directory = await databaseDirectory(t);
  const lock = acquireDataDirLock(directory);
  t.teardown(() => lock.release());
  t.is(lock.lockFile, `${directory}.lock`);
  t.is(dataDirLockFile(directory), lock.lockFile);
  t.is(lock.tookOverFrom, undefined);
  const owner = readOwner(lock.lockFile);
  t.is(owner.pid, process.pid);
  t.is(owner.hostname, hostname());
  t.false(Number.isNaN(Date.parse(owner.started_at)));

  const error = t.throws(() => acquireDataDirLock(`${directory}/`), { instanceOf: DataDirLockedError });
  t.true(error?.message.includes(directory), error?.message);
  t.true(error?.message.includes(lock.lockFile), error?.message);
  t.true(error?.message.includes(`pid ${process.pid}`), error?.message);
  t.is(error?.pid, process.pid);
  t.true(existsSync(lock.lockFile), 'the refusal leaves the lock alone');
});

test('release removes the lock file, and the directory can be locked again', async (t) => {
  const directory = await databaseDirectory(t);
  const first = acquireDataDirLock(directory);
  first.release();
  t.false(existsSync(first.lockFile));
  first.release();
  const second = acquireDataDirLock(directory);
  t.teardown(() => second.release());
  t.is(readOwner(second.lockFile).pid, process.pid);
  first.release();
  t.true(existsSync(second.lockFile), "a released lock never removes its successor's file");
});

test('a lock file naming a live process of this host is refused, naming the file and the pid', async (t) => {
  const directory = await databaseDirectory(t);
  const sleeper = await running(t, 'sleep', ['30']);
  const lockFile = dataDirLockFile(directory);
  acquireDataDirLock(directory).release(); // creates the parent directory
  writeOwner(lockFile, { pid: sleeper.pid });
  const before = readFileSync(lockFile, 'utf8');

  const error = t.throws(() => acquireDataDirLock(directory), { instanceOf: DataDirLockedError });
  t.is(
    error?.message,
    `The embedded database in ${directory} is in use by process ${sleeper.pid} (lock file ${lockFile}); ` +
      'stop that process first, or remove the lock file if it is not running',
  );
  t.is(error?.pid, sleeper.pid);
  t.is(error?.lockFile, lockFile);
  t.is(readFileSync(lockFile, 'utf8'), before, 'the other process keeps its lock');
});

test('a lock file naming a dead process, or this pid from an earlier life, is taken over at once', async (t) => {
  const directory = await databaseDirectory(t);
  const lockFile = dataDirLockFile(directory);
  acquireDataDirLock(directory).release();
  for (const pid of [await deadPid(), process.pid]) {
    writeOwner(lockFile, { pid, started_at: '2020-01-01T00:00:00.000Z' });
    const lock = acquireDataDirLock(directory);
    t.is(lock.tookOverFrom?.pid, pid);
    t.is(lock.tookOverFrom?.started_at, '2020-01-01T00:00:00.000Z');
    t.is(readOwner(lockFile).pid, process.pid);
    lock.release();
    t.false(existsSync(lockFile));
  }
});

test('a lock file that names no process is refused, naming the file', async (t) => {
  const directory = await databaseDirectory(t);
  const lockFile = dataDirLockFile(directory);
  acquireDataDirLock(directory).release();
  writeFileSync(lockFile, '');
  const error = t.throws(() => acquireDataDirLock(directory), { instanceOf: DataDirLockedError });
  t.true(error?.message.includes(lockFile), error?.message);
  t.is(error?.pid, undefined);
});

test('a process that exits without closing releases its lock; one killed leaves a stale lock', async (t) => {
  const directory = await databaseDirectory(t);
  const lockFile = dataDirLockFile(directory);
  const exiting = await runScript(`db.acquireDataDirLock(${JSON.stringify(directory)}); process.exit(3);`);
  t.is(await exiting.exited, 3);
  t.false(existsSync(lockFile), 'released on exit');

  const killed = await runScript(
    `db.acquireDataDirLock(${JSON.stringify(directory)}); console.log('locked'); setInterval(() => {}, 1000);`,
  );
  t.teardown(() => killed.child.kill('SIGKILL'));
  await new Promise((resolve) => killed.child.stdout?.once('data', resolve));
  t.throws(() => acquireDataDirLock(directory), { instanceOf: DataDirLockedError, message: /in use by process/ });
  killed.child.kill('SIGKILL');
  await killed.exited;
  t.is(readOwner(lockFile).pid, killed.child.pid ?? 0, 'SIGKILL leaves the lock file behind');
  const lock = acquireDataDirLock(directory);
  t.is(lock.tookOverFrom?.pid, killed.child.pid);
  lock.release();
});

test('createDatabase locks its dataDir until close; a second one on it is refused; in memory takes no lock', async (t) => {
  const directory = await databaseDirectory(t);
  const first = await createDatabase({ dataDir: directory });
  let open = true;
  t.teardown(async () => {
    if (open) await first.close();
  });
  t.is(readOwner(dataDirLockFile(directory)).pid, process.pid);
  const error = await t.throwsAsync(createDatabase({ dataDir: directory }), { instanceOf: DataDirLockedError });
  t.true(error?.message.includes(dataDirLockFile(directory)), error?.message);
  t.true(await first.ping(), 'the refused open leaves the first database working');

  const memory = [await createDatabase(), await createDatabase()];
  for (const database of memory) await database.close();

  await first.close();
  open = false;
  t.false(existsSync(dataDirLockFile(directory)), 'close releases the lock');
  const again = await createDatabase({ dataDir: directory });
  await again.close();
  t.false(existsSync(dataDirLockFile(directory)));
});
