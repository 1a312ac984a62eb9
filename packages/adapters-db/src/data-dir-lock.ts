import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';

/**
 * One owner for the embedded database's directory. PGlite keeps no lock of its own: it writes a
 * `postmaster.pid` naming the fake pid -42, never removes it and never reads it, so a second
 * process opens the same files beside the first and each writes its own view of them.
 *
 * The lock is a file next to the directory, `<directory>.lock` (`./.data/pglite.lock` for
 * `./.data/pglite`): not inside it, because PGlite refuses to create a database in a directory
 * that is not empty. It is created with `open(..., 'wx')` and holds `{pid, hostname, started_at}`.
 */

/** What a lock file says about its owner. */
export interface DataDirLockOwner {
  pid: number;
  hostname: string;
  started_at: string;
}

/** The directory is held by another process (or already open in this one). */
export class DataDirLockedError extends Error {
  override readonly name = 'DataDirLockedError';

  constructor(
    message: string,
    /** The embedded database's directory (absolute). */
    readonly directory: string,
    /** The lock file (absolute). */
    readonly lockFile: string,
    /** The owner's pid, when the lock file names one. */
    readonly pid: number | undefined,
  ) {
    super(message);
  }
}

/** A held lock; `release` removes the lock file (once; later calls do nothing). */
export interface DataDirLock {
  readonly directory: string;
  readonly lockFile: string;
  /** The owner of the stale lock this one replaced (a process that died without releasing it). */
  readonly tookOverFrom: DataDirLockOwner | undefined;
  release(): void;
}

/** The lock file of an embedded database directory. */
export const dataDirLockFile = (directory: string): string => `${resolve(directory)}.lock`;

/**
 * Directories this process holds, with the release of each. Kept on `globalThis` so that two
 * copies of this module in one process still see each other's locks.
 */
const HELD_KEY = Symbol.for('shipyard.adapters-db.data-dir-locks');
type Held = Map<string, () => void>;
const globals = globalThis as typeof globalThis & { [HELD_KEY]?: Held };
const held: Held = globals[HELD_KEY] ?? new Map();
globals[HELD_KEY] = held;

/** On exit (a `process.exit`, an uncaught error, the end of the event loop), every lock goes. */
process.on('exit', () => {
  for (const release of [...held.values()]) release();
});

const errorCode = (error: unknown): string | undefined =>
  typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;

/** Whether `pid` is a running process (EPERM: it runs, as another user). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) === 'EPERM';
  }
}

/** The lock file's content as text, or `undefined` when there is none. */
function readText(lockFile: string): string | undefined {
  try {
    return readFileSync(lockFile, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

function parseOwner(text: string): DataDirLockOwner | undefined {
  try {
    const value = JSON.parse(text) as Partial<DataDirLockOwner> | null;
    if (value === null || typeof value !== 'object') return undefined;
    if (typeof value.pid !== 'number' || !Number.isSafeInteger(value.pid) || value.pid <= 0) return undefined;
    return {
      pid: value.pid,
      hostname: typeof value.hostname === 'string' ? value.hostname : '',
      started_at: typeof value.started_at === 'string' ? value.started_at : '',
    };
  } catch {
    return undefined;
  }
}

/** Creates the lock file, failing with EEXIST when there is one. */
function create(lockFile: string, owner: DataDirLockOwner): void {
  const fd = openSync(lockFile, 'wx', 0o644);
  try {
    writeSync(fd, `${JSON.stringify(owner)}\n`);
  } finally {
    closeSync(fd);
  }
}

/**
 * A lock file is stale when its owner is gone: its pid is not running, or it is this process's
 * own pid from an earlier life (containers start their process with the same pid every time; this
 * process holds nothing under that name, as `held` says). A lock written on another host is
 * stale too: its pid cannot be checked from here, and a recreated container has a new hostname.
 */
function isStale(owner: DataDirLockOwner): boolean {
  if (owner.hostname !== hostname()) return true;
  if (owner.pid === process.pid) return true;
  return !isRunning(owner.pid);
}

function inUse(directory: string, lockFile: string, owner: DataDirLockOwner): DataDirLockedError {
  return new DataDirLockedError(
    `The embedded database in ${directory} is in use by process ${owner.pid} (lock file ${lockFile}); ` +
      'stop that process first, or remove the lock file if it is not running',
    directory,
    lockFile,
    owner.pid,
  );
}

function unreadable(directory: string, lockFile: string): DataDirLockedError {
  return new DataDirLockedError(
    `The embedded database in ${directory} has a lock file that names no process (${lockFile}); ` +
      'remove the lock file if no Shipyard process is using the database',
    directory,
    lockFile,
    undefined,
  );
}

/**
 * Takes the lock of an embedded database directory, before the engine opens it. Refused with
 * `DataDirLockedError` when another running process on this host holds it, or this process does;
 * a stale lock (its process is gone) is taken over at once. Released by `release()` and, at the
 * latest, when the process exits.
 */
export function acquireDataDirLock(directory: string): DataDirLock {
  const path = resolve(directory);
  const lockFile = dataDirLockFile(path);
  if (held.has(path)) {
    throw new DataDirLockedError(
      `The embedded database in ${path} is already open in this process (pid ${process.pid}, lock file ${lockFile}); ` +
        'close it before opening it again',
      path,
      lockFile,
      process.pid,
    );
  }
  mkdirSync(dirname(lockFile), { recursive: true });
  const owner: DataDirLockOwner = { pid: process.pid, hostname: hostname(), started_at: new Date().toISOString() };

  let tookOverFrom: DataDirLockOwner | undefined;
  for (let attempt = 1; ; attempt += 1) {
    try {
      create(lockFile, owner);
      break;
    } catch (error) {
      if (errorCode(error) !== 'EEXIST') throw error;
    }
    const text = readText(lockFile);
    if (text === undefined) {
      // Released between our attempt and the read: try again, once.
      if (attempt === 1) continue;
      throw unreadable(path, lockFile);
    }
    const current = parseOwner(text);
    if (current === undefined) throw unreadable(path, lockFile);
    // Only one takeover: whoever loses the race for the fresh lock file is refused, naming the winner.
    if (attempt > 1 || !isStale(current)) throw inUse(path, lockFile, current);
    // Remove the stale file only if it is still the one judged stale (not a winner's fresh one).
    if (readText(lockFile) !== text) continue;
    try {
      unlinkSync(lockFile);
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') throw error;
    }
    tookOverFrom = current;
  }

  const ours = `${JSON.stringify(owner)}\n`;
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    held.delete(path);
    // Leave the file alone if it no longer names this lock (removed by hand and taken by another).
    try {
      if (readText(lockFile) === ours) unlinkSync(lockFile);
    } catch {
      // Nothing to do at exit: the next owner takes a lock left behind over as stale.
    }
  };
  held.set(path, release);
  return { directory: path, lockFile, tookOverFrom, release };
}
