import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { LineSplitter } from './line-splitter.js';

export interface SpawnGroupOptions {
  cwd: string;
  /** The whole environment of the child: nothing of this process's is added. */
  env: Record<string, string>;
  onLine: (line: string) => void;
  /** Run as this user and group (this process must be root); supplementary groups are dropped. */
  uid?: number;
  gid?: number;
}

export interface GroupExit {
  exitCode: number | null;
  signal: string | null;
}

/** A child that leads its own process group, so that it and everything it starts can be killed at once. */
export interface GroupProcess {
  readonly pid: number;
  /**
   * Settles once the leader has exited, what it left behind in its group is killed and its output
   * is read to the end: every line has reached `onLine` by then.
   */
  readonly exited: Promise<GroupExit>;
  /** SIGTERM to the whole group, SIGKILL after `graceMs`; resolves when no process of it is left. */
  terminate(graceMs: number): Promise<void>;
}

/** Thrown when a child cannot even be started (no shell, no work directory). */
export class SpawnError extends Error {
  readonly code = 'spawn_failed';
}

const LEFTOVER_GRACE_MS = 1_000;
const STREAM_DRAIN_MS = 1_000;

export async function spawnGroup(
  file: string,
  args: readonly string[],
  options: SpawnGroupOptions,
): Promise<GroupProcess> {
  const subprocess = execa(file, args, {
    cwd: options.cwd,
    env: options.env,
    extendEnv: false,
    detached: true,
    cleanup: false,
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
    buffer: false,
    reject: false,
    encoding: 'buffer',
    ...(options.uid === undefined ? {} : { uid: options.uid }),
    ...(options.gid === undefined ? {} : { gid: options.gid }),
  });
  const spawned = new Promise<void>((resolve, reject) => {
    subprocess.once('spawn', () => resolve());
    subprocess.once('error', reject);
  });
  try {
    await spawned;
  } catch (error) {
    await subprocess;
    throw new SpawnError(`Could not start ${file}: ${(error as Error).message}`, { cause: error });
  }
  const pid = subprocess.pid!;
  const streams = [subprocess.stdout, subprocess.stderr].map((stream) => {
    const splitter = new LineSplitter(options.onLine);
    stream.on('data', (chunk: Buffer) => splitter.push(chunk));
    return new Promise<void>((resolve) => {
      stream.once('close', () => {
        splitter.end();
        resolve();
      });
    });
  });
  const leaderExit = new Promise<GroupExit>((resolve) => {
    subprocess.once('exit', (exitCode, signal) => resolve({ exitCode, signal }));
  });
  let terminating: Promise<void> | null = null;
  const terminate = (graceMs: number): Promise<void> => {
    terminating ??= terminateGroup(pid, graceMs);
    return terminating;
  };
  const exited = (async () => {
    const exit = await leaderExit;
    // Whatever the leader left running in its group (a background job, a daemon) goes with it,
    // which also closes the pipes they hold.
    await terminate(LEFTOVER_GRACE_MS);
    const drained = await Promise.race([
      Promise.all(streams).then(() => true),
      sleep(STREAM_DRAIN_MS).then(() => false),
    ]);
    if (!drained) {
      // Held open by a process that left the group (setsid): stop reading rather than hang.
      subprocess.stdout.destroy();
      subprocess.stderr.destroy();
    }
    await subprocess;
    return exit;
  })();
  return { pid, exited, terminate };
}

/** Sends `signal` to the group; false when it no longer exists. */
function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

export async function terminateGroup(pgid: number, graceMs: number): Promise<void> {
  if (!groupAlive(pgid)) return;
  signalGroup(pgid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (groupAlive(pgid) && Date.now() < deadline) await sleep(25);
  if (!groupAlive(pgid)) return;
  signalGroup(pgid, 'SIGKILL');
  const killDeadline = Date.now() + 5_000;
  while (groupAlive(pgid)) {
    if (Date.now() > killDeadline) throw new Error(`Process group ${pgid} survived SIGKILL`);
    await sleep(25);
  }
}

const hasProc = (() => {
  try {
    readdirSync('/proc/self');
    return true;
  } catch {
    return false;
  }
})();

interface ProcStat {
  state: string;
  pgrp: number;
  startTime: string;
}

function readStat(pid: string | number): ProcStat | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (2nd field) is in parentheses and may hold spaces: read after the last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0]!, pgrp: Number(fields[2]), startTime: fields[19]! };
  } catch {
    return null;
  }
}

/**
 * Whether any process of the group is still running. Zombies do not count: where PID 1 does not
 * reap orphans (some containers and sandboxes), a killed group's members can linger as zombies.
 */
export function groupAlive(pgid: number): boolean {
  if (!hasProc) {
    try {
      process.kill(-pgid, 0);
      return true;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'EPERM';
    }
  }
  for (const entry of readdirSync('/proc')) {
    if (entry.charCodeAt(0) < 48 || entry.charCodeAt(0) > 57) continue;
    const stat = readStat(entry);
    if (stat && stat.pgrp === pgid && stat.state !== 'Z' && stat.state !== 'X') return true;
  }
  return false;
}

/**
 * A token that tells this process apart from a later one that reuses its pid (its start time, in
 * clock ticks since boot), or null where /proc is not available.
 */
export function processStartToken(pid: number): string | null {
  return hasProc ? (readStat(pid)?.startTime ?? null) : null;
}

/** Whether `pid` is still the process that `startToken` was taken from, and not a zombie. */
export function isSameProcess(pid: number, startToken: string | null): boolean {
  if (!hasProc) {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }
  const stat = readStat(pid);
  return stat !== null && stat.state !== 'Z' && stat.state !== 'X' && stat.startTime === startToken;
}
