import { accessSync, constants, readFileSync, type Stats, statSync } from 'node:fs';
import { chmod, chown, lstat, mkdir, realpath } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { ResourceLimits, RunAs } from './runtime.types.js';

/** The runtime cannot work as configured (a work root the build user cannot enter, a user it cannot become). */
export class RuntimeSetupError extends Error {
  readonly code = 'runtime_misconfigured';
}

export interface SandboxOptions {
  /**
   * The user builds and apps run as. Default: when this process is root, `nobody` (from
   * /etc/passwd, else 65534:65534); otherwise this process's own user. `null` runs them as this
   * process's user even when it is root (only inside a throwaway container).
   */
  runAs?: RunAs | null;
  /** Limits of every process of a build or an app (see `ResourceLimits` for the defaults). */
  limits?: ResourceLimits;
  /**
   * The `prlimit` executable that applies the limits. Default: the first one on the children's
   * PATH; `null` applies none. Without one the children run unlimited (a warning says so, once).
   */
  prlimit?: string | null;
  /** Where the one-time warnings go (prlimit missing). Default `process.emitWarning`. */
  onWarning?: (message: string) => void;
}

const GiB = 1024 ** 3;
const DEFAULT_MEMORY_BYTES = 2 * GiB;
const DEFAULT_PROCESSES = 1024;
const DEFAULT_OPEN_FILES = 4096;
const NOBODY: RunAs = { uid: 65534, gid: 65534 };

/** `nobody` from /etc/passwd (its uid and primary group), or 65534:65534. */
export function nobodyUser(passwdFile = '/etc/passwd'): RunAs {
  let text: string;
  try {
    text = readFileSync(passwdFile, 'utf8');
  } catch {
    return NOBODY;
  }
  for (const line of text.split('\n')) {
    const [name, , uid, gid] = line.split(':');
    if (name === 'nobody' && /^\d+$/.test(uid ?? '') && /^\d+$/.test(gid ?? '')) {
      return { uid: Number(uid), gid: Number(gid) };
    }
  }
  return NOBODY;
}

const isRoot = (): boolean => typeof process.getuid === 'function' && process.getuid() === 0;

/**
 * Who the children of a runner run as and under which limits, and the checks that the
 * directories they need are theirs. Shared by the build runner and the process runtime.
 */
export class Sandbox {
  /** `null`: the children run as this process's user. */
  readonly runAs: RunAs | null;
  private readonly limitArgs: string[];
  private readonly prlimit: string | null;
  /** Limits are wanted but no prlimit was found (unlike `prlimit: null`: none wanted). */
  private readonly prlimitMissing: boolean;
  private readonly describedLimits: string;
  private readonly onWarning: (message: string) => void;
  private warned = false;

  constructor(options: SandboxOptions, childPath: string) {
    this.onWarning = options.onWarning ?? ((message) => process.emitWarning(message, 'ShipyardRuntimeWarning'));
    this.runAs = resolveRunAs(options.runAs);
    const limits = options.limits ?? {};
    const hard = hardLimits();
    const pick = (value: number | null | undefined, fallback: number | null, current: number | null) => {
      const wanted = value === undefined ? fallback : value;
      if (wanted !== null && (!Number.isSafeInteger(wanted) || wanted <= 0)) {
        throw new RuntimeSetupError(`A resource limit is a positive whole number, not ${wanted}`);
      }
      // A limit can only be lowered by the unprivileged child: never ask for more than is allowed now.
      return wanted === null || current === null ? wanted : Math.min(wanted, current);
    };
    const memory = pick(limits.memoryBytes, DEFAULT_MEMORY_BYTES, hard.data);
    const processes = pick(limits.processes, this.runAs === null ? null : DEFAULT_PROCESSES, hard.nproc);
    const openFiles = pick(limits.openFiles, DEFAULT_OPEN_FILES, hard.nofile);
    this.limitArgs = [
      ...(memory === null ? [] : [`--data=${memory}`]),
      ...(processes === null ? [] : [`--nproc=${processes}`]),
      ...(openFiles === null ? [] : [`--nofile=${openFiles}`]),
    ];
    this.prlimit =
      this.limitArgs.length === 0
        ? null
        : options.prlimit === undefined
          ? findOnPath('prlimit', childPath)
          : options.prlimit;
    this.prlimitMissing = this.limitArgs.length > 0 && options.prlimit === undefined && this.prlimit === null;
    const parts = [
      memory === null ? null : `data ${formatBytes(memory)}`,
      processes === null ? null : `${processes} processes`,
      openFiles === null ? null : `${openFiles} open files`,
    ].filter((part) => part !== null);
    this.describedLimits = this.prlimit === null || parts.length === 0 ? 'no limits' : parts.join(', ');
  }

  /** One line for a log: who runs the child and under which limits. */
  describe(): string {
    const who = this.runAs === null ? `uid ${process.getuid?.() ?? '?'}` : `uid ${this.runAs.uid}:${this.runAs.gid}`;
    return `${who}, ${this.describedLimits}`;
  }

  /** The command line that runs `file args` under the limits. */
  command(file: string, args: readonly string[]): { file: string; args: string[] } {
    if (this.prlimit === null) {
      if (this.prlimitMissing && !this.warned) {
        this.warned = true;
        this.onWarning(
          'prlimit (util-linux) was not found: builds and apps run without limits on memory, processes or open files',
        );
      }
      return { file, args: [...args] };
    }
    return { file: this.prlimit, args: [...this.limitArgs, '--', file, ...args] };
  }

  /** spawn's `uid`/`gid`, or nothing to run as this process's user. */
  identity(): { uid?: number; gid?: number } {
    return this.runAs === null ? {} : { uid: this.runAs.uid, gid: this.runAs.gid };
  }

  /**
   * Creates `dir` if needed and makes it the children's (owner `runAs`, `mode`). Only for the
   * directories of the runner's own layout: it refuses a symbolic link.
   */
  async ownedDirectory(dir: string, mode = 0o700): Promise<void> {
    await mkdir(dir, { recursive: true });
    const stats = await lstat(dir);
    if (!stats.isDirectory()) throw new RuntimeSetupError(`${dir} is not a directory`);
    if (this.runAs !== null) {
      await chown(dir, this.runAs.uid, this.runAs.gid);
      await chmod(dir, mode);
    }
  }

  /**
   * The children's HOME. In the runner's own layout it is made theirs; a HOME configured elsewhere
   * is created theirs when missing, and must already be theirs when it exists (it is not taken over).
   */
  async homeDirectory(dir: string, ownLayout: boolean): Promise<void> {
    if (ownLayout || this.runAs === null) return this.ownedDirectory(dir, 0o700);
    let stats: Stats | null = null;
    try {
      stats = await lstat(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (stats === null) return this.ownedDirectory(dir, 0o700);
    if (!stats.isDirectory() || stats.uid !== this.runAs.uid) {
      throw new RuntimeSetupError(
        `The HOME of builds and apps (${dir}) must be a directory owned by uid ${this.runAs.uid}, which runs them (chown ${this.runAs.uid}:${this.runAs.gid} ${dir})`,
      );
    }
  }

  /**
   * A directory of this process that the children pass through but may not change (the work root,
   * its `builds`): created if needed and, when they run as another user, opened for traversal only.
   */
  async passableDirectory(dir: string): Promise<void> {
    await mkdir(dir, { recursive: true });
    if (this.runAs !== null) {
      const stats = await lstat(dir);
      if (!stats.isDirectory()) throw new RuntimeSetupError(`${dir} is not a directory`);
      if ((stats.mode & 0o111) !== 0o111) await chmod(dir, (stats.mode & 0o7777) | 0o111);
    }
  }

  /** Throws a `RuntimeSetupError` naming the first directory on the way to `dir` that the children cannot enter. */
  async assertReachable(dir: string, what: string): Promise<void> {
    if (this.runAs === null) return;
    const real = await realpath(dir);
    checkPath(real, this.runAs, what, (path) => statSync(path));
  }

  /** The same check for the part of `dir` that exists (at construction, before anything is created). */
  assertReachableSoFar(dir: string, what: string): void {
    if (this.runAs === null) return;
    let existing = resolve(dir);
    for (;;) {
      try {
        statSync(existing);
        break;
      } catch {
        if (dirname(existing) === existing) return;
        existing = dirname(existing);
      }
    }
    checkPath(existing, this.runAs, what, (path) => statSync(path));
  }
}

function resolveRunAs(option: RunAs | null | undefined): RunAs | null {
  if (option === null) return null;
  if (option === undefined) return isRoot() ? nobodyUser() : null;
  if (!Number.isSafeInteger(option.uid) || option.uid < 0 || !Number.isSafeInteger(option.gid) || option.gid < 0) {
    throw new RuntimeSetupError(`runAs needs a whole uid and gid, not ${JSON.stringify(option)}`);
  }
  const self = process.getuid?.();
  if (option.uid === self && option.gid === process.getgid?.()) return null;
  if (!isRoot()) {
    throw new RuntimeSetupError(
      `Only root can run builds and apps as uid ${option.uid}; this process runs as uid ${self} (leave runAs unset)`,
    );
  }
  if (option.uid === 0) {
    throw new RuntimeSetupError('runAs uid 0 would run builds and apps as root: pass runAs: null to mean that');
  }
  return option;
}

function checkPath(path: string, user: RunAs, what: string, stat: (path: string) => Stats): void {
  const parts = path.split(sep).filter((part) => part !== '');
  let current: string = sep;
  for (let index = 0; index <= parts.length; index += 1) {
    if (index > 0) current = join(current, parts[index - 1] as string);
    const stats = stat(current);
    if (!stats.isDirectory()) throw new RuntimeSetupError(`${what}: ${current} is not a directory`);
    const bit = stats.uid === user.uid ? 0o100 : stats.gid === user.gid ? 0o010 : 0o001;
    if ((stats.mode & bit) === 0) {
      const mode = (stats.mode & 0o777).toString(8).padStart(3, '0');
      throw new RuntimeSetupError(
        `${what} (${path}) cannot be reached by uid ${user.uid}, which runs the builds and apps: ` +
          `${current} (mode ${mode}, owner ${stats.uid}:${stats.gid}) does not let it through. ` +
          `Allow it (chmod o+x ${current}) or choose a directory under one it can enter.`,
      );
    }
  }
}

function findOnPath(name: string, path: string): string | null {
  for (const dir of path.split(':')) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return null;
}

/** This process's hard limits (what an unprivileged child may still ask for), from /proc/self/limits. */
function hardLimits(): { data: number | null; nproc: number | null; nofile: number | null } {
  let text = '';
  try {
    text = readFileSync('/proc/self/limits', 'utf8');
  } catch {
    return { data: null, nproc: null, nofile: null };
  }
  const hard = (label: string): number | null => {
    const match = new RegExp(`^${label}\\s+\\S+\\s+(\\S+)`, 'm').exec(text);
    return match === null || match[1] === 'unlimited' ? null : Number(match[1]);
  };
  return { data: hard('Max data size'), nproc: hard('Max processes'), nofile: hard('Max open files') };
}

function formatBytes(bytes: number): string {
  if (bytes % GiB === 0) return `${bytes / GiB} GiB`;
  if (bytes % 1024 ** 2 === 0) return `${bytes / 1024 ** 2} MiB`;
  return `${bytes} bytes`;
}
