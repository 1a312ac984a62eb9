import { accessSync, constants, readFileSync, type Stats, statSync } from 'node:fs';
import { chmod, type FileHandle, lstat, mkdir, open, realpath } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { ResourceLimits, RunAs } from './runtime.types.js';
import { ServiceIdentities } from './service-identities.js';
import { RuntimeSetupError } from './setup-error.js';

export { RuntimeSetupError };

export interface SandboxOptions {
  /**
   * The user builds and apps run as. Default: when this process is root, `'per-service'`;
   * otherwise this process's own user. `'per-service'` (root only): each service's builds and
   * apps run as a uid/gid of their own, from `identities`. `{ uid, gid }`: all of them as that
   * one user (root only). `null` runs them as this process's user even when it is root (only
   * inside a throwaway container).
   */
  runAs?: RunAs | 'per-service' | null;
  /**
   * Who hands out the services' uids with `runAs: 'per-service'`. Give the build runner and the
   * process runtime the same one (an app runs in its build's directory, which is the service's
   * uid's). Default: one on this work root (`<workRoot>/uids.json`, uids from 200000 on).
   */
  identities?: ServiceIdentities;
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

/** Where a runner's children live: its work root and, if configured, their HOME (see `homeDir`). */
export interface SandboxLayout {
  workRoot: string;
  homeDir?: string | undefined;
}

/** A probe for the reachability checks of `per-service`: matches no owner or group, as a fresh uid does not. */
const ANY_SERVICE: RunAs = { uid: -1, gid: -1 };

/**
 * Who the children of a runner run as and under which limits, their HOME, and the checks that the
 * directories they need are theirs. Shared by the build runner and the process runtime.
 *
 * Modes: `self` (this process's user, not root or `runAs: null`), `fixed` (one `runAs` user for
 * all), `per-service` (root by default: each service's own uid from `identities`).
 */
export class Sandbox {
  readonly mode: 'self' | 'fixed' | 'per-service';
  /** The one user of `fixed`; `null` otherwise. */
  private readonly fixedUser: RunAs | null;
  /** The uids of `per-service`; `null` otherwise. */
  readonly identities: ServiceIdentities | null;
  /** `self`/`fixed`: the HOME of every child. `per-service`: the directory of their HOMEs, one per uid. */
  private readonly home: string;
  /** The HOME (or the directory of HOMEs) is the runner's own layout (`<workRoot>/home`), not `homeDir`. */
  private readonly defaultHome: boolean;
  private readonly limitArgs: string[];
  private readonly prlimit: string | null;
  /** Limits are wanted but no prlimit was found (unlike `prlimit: null`: none wanted). */
  private readonly prlimitMissing: boolean;
  private readonly describedLimits: string;
  private readonly onWarning: (message: string) => void;
  private warned = false;

  constructor(options: SandboxOptions, childPath: string, layout: SandboxLayout) {
    this.onWarning = options.onWarning ?? ((message) => process.emitWarning(message, 'ShipyardRuntimeWarning'));
    const runAs = resolveRunAs(options.runAs);
    this.mode = runAs === null ? 'self' : runAs === 'per-service' ? 'per-service' : 'fixed';
    this.fixedUser = runAs === null || runAs === 'per-service' ? null : runAs;
    this.identities =
      this.mode === 'per-service' ? (options.identities ?? new ServiceIdentities({ workRoot: layout.workRoot })) : null;
    this.defaultHome = layout.homeDir === undefined;
    this.home = resolve(layout.homeDir ?? join(layout.workRoot, 'home'));
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
    const processes = pick(limits.processes, this.separate ? DEFAULT_PROCESSES : null, hard.nproc);
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

  /** The HOME of all, or (`per-service`) the directory of the HOMEs. */
  get homePath(): string {
    return this.home;
  }

  /** The HOME is `homeDir`, not the runner's own layout. */
  get configuredHome(): boolean {
    return !this.defaultHome;
  }

  /** The children run as another user than this process's (and so need their directories opened to them). */
  get separate(): boolean {
    return this.mode !== 'self';
  }

  /** Who runs the children of this service: `null` for this process's user. */
  async userFor(serviceId: string): Promise<RunAs | null> {
    if (this.identities !== null) return this.identities.identityOf(serviceId);
    return this.fixedUser;
  }

  /**
   * One line for a log: who runs the child and under which limits (`uid 200000:200000, data 2 GiB,
   * …`); without a user, for all of them (`a uid per service (200000–299999), …`).
   */
  describe(user?: RunAs | null): string {
    const chosen = user === undefined ? this.fixedUser : user;
    const who =
      chosen !== null
        ? `uid ${chosen.uid}:${chosen.gid}`
        : this.identities !== null
          ? `a uid per service (${this.identities.describeRange()})`
          : `uid ${process.getuid?.() ?? '?'}`;
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

  /** spawn's `uid`/`gid` for `user`, or nothing to run as this process's user. */
  identity(user: RunAs | null): { uid?: number; gid?: number } {
    return user === null ? {} : { uid: user.uid, gid: user.gid };
  }

  /**
   * Creates `dir` if needed and makes it `user`'s (owner, `mode`). Only for the directories of the
   * runner's own layout, under directories of this process: it refuses a symbolic link, and changes
   * the directory it opened (not whatever the name points to by then).
   */
  async ownedDirectory(dir: string, user: RunAs | null, mode = 0o700): Promise<void> {
    await mkdir(dir, { recursive: true });
    await withDirectory(dir, async (handle) => {
      if (user !== null) {
        await handle.chown(user.uid, user.gid);
        await handle.chmod(mode);
      }
    });
  }

  /**
   * A directory of this process's own layout that the children pass through but may neither list
   * nor change (`builds`, the directory of the HOMEs): created if needed and, when they run as
   * another user, made this process's with mode 0711 (taken over from an earlier layout's owner).
   */
  async layoutDirectory(dir: string): Promise<void> {
    await mkdir(dir, { recursive: true });
    if (!this.separate) return;
    await withDirectory(dir, async (handle) => {
      const stats = await handle.stat();
      const uid = process.getuid?.() ?? stats.uid;
      const gid = process.getgid?.() ?? stats.gid;
      if (stats.uid !== uid || stats.gid !== gid) await handle.chown(uid, gid);
      if ((stats.mode & 0o7777) !== 0o711) await handle.chmod(0o711);
    });
  }

  /**
   * A directory of this process that the children pass through but may not change (the work root):
   * created if needed and, when they run as another user, opened for traversal (o+x).
   */
  async passableDirectory(dir: string): Promise<void> {
    await mkdir(dir, { recursive: true });
    if (this.separate) {
      const stats = await lstat(dir);
      if (!stats.isDirectory()) throw new RuntimeSetupError(`${dir} is not a directory`);
      if ((stats.mode & 0o111) !== 0o111) await chmod(dir, (stats.mode & 0o7777) | 0o111);
    }
  }

  /**
   * Makes what the HOMEs need (at a runner's first use): `self`/`fixed`, the HOME of all, the
   * children's (see `homeDirectory`); `per-service`, the directory of the HOMEs, this process's
   * and passable (`<workRoot>/home`, 0711; a `homeDir` must be this process's).
   */
  async prepareHome(): Promise<void> {
    if (this.mode !== 'per-service') {
      await this.homeDirectory(this.home, this.fixedUser);
      await this.assertReachable(this.home, 'The HOME of builds and apps', this.fixedUser);
      return;
    }
    if (this.defaultHome) {
      await this.layoutDirectory(this.home);
    } else {
      await this.passableDirectory(this.home);
      const stats = await lstat(this.home);
      if (stats.uid !== process.getuid?.() || (stats.mode & 0o022) !== 0) {
        throw new RuntimeSetupError(
          `The directory of the services' HOMEs (${this.home}) must be this process's and writable by it alone (chown ${process.getuid?.()} ${this.home}; chmod 0711 ${this.home})`,
        );
      }
    }
    await this.assertReachable(this.home, "The directory of the services' HOMEs", ANY_SERVICE);
  }

  /**
   * The HOME of `user`'s children, ready: `per-service`, `<home>/<uid>`, that uid's own (0700), so
   * no other service reads its npm cache; otherwise the one HOME of all.
   */
  async homeOf(user: RunAs | null): Promise<string> {
    if (this.mode !== 'per-service' || user === null) return this.home;
    const dir = join(this.home, String(user.uid));
    await this.ownedDirectory(dir, user, 0o700);
    return dir;
  }

  /**
   * The one HOME of `self`/`fixed`. In the runner's own layout it is made theirs; a HOME configured
   * elsewhere is created theirs when missing, and must already be theirs when it exists (it is not
   * taken over).
   */
  private async homeDirectory(dir: string, user: RunAs | null): Promise<void> {
    if (this.defaultHome || user === null) return this.ownedDirectory(dir, user, 0o700);
    let stats: Stats | null = null;
    try {
      stats = await lstat(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (stats === null) return this.ownedDirectory(dir, user, 0o700);
    if (!stats.isDirectory() || stats.uid !== user.uid) {
      throw new RuntimeSetupError(
        `The HOME of builds and apps (${dir}) must be a directory owned by uid ${user.uid}, which runs them (chown ${user.uid}:${user.gid} ${dir})`,
      );
    }
  }

  /**
   * Throws a `RuntimeSetupError` naming the first directory on the way to `dir` that `user` (by
   * default every user the children may run as) cannot enter.
   */
  async assertReachable(dir: string, what: string, user?: RunAs | null): Promise<void> {
    const probe = user === undefined ? this.probeUser() : user;
    if (probe === null) return;
    const real = await realpath(dir);
    checkPath(real, probe, this.describeProbe(probe), what, (path) => statSync(path));
  }

  /** The same check for the part of `dir` that exists (at construction, before anything is created). */
  assertReachableSoFar(dir: string, what: string): void {
    const probe = this.probeUser();
    if (probe === null) return;
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
    checkPath(existing, probe, this.describeProbe(probe), what, (path) => statSync(path));
  }

  private probeUser(): RunAs | null {
    return this.mode === 'per-service' ? ANY_SERVICE : this.fixedUser;
  }

  private describeProbe(probe: RunAs): string {
    return probe === ANY_SERVICE && this.identities !== null
      ? `the services' uids (${this.identities.describeRange()})`
      : `uid ${probe.uid}`;
  }
}

/** Opens `dir` itself (no symbolic link followed), checks it is a directory, and hands it to `use`. */
async function withDirectory(dir: string, use: (handle: FileHandle) => Promise<void>): Promise<void> {
  let handle: FileHandle;
  try {
    handle = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ELOOP' || code === 'ENOTDIR') throw new RuntimeSetupError(`${dir} is not a directory`);
    throw error;
  }
  try {
    await use(handle);
  } finally {
    await handle.close();
  }
}

function resolveRunAs(option: RunAs | 'per-service' | null | undefined): RunAs | 'per-service' | null {
  if (option === null) return null;
  if (option === undefined) return isRoot() ? 'per-service' : null;
  if (option === 'per-service') {
    if (!isRoot()) {
      throw new RuntimeSetupError(
        `Only root can run builds and apps as a uid per service; this process runs as uid ${process.getuid?.()} (leave runAs unset)`,
      );
    }
    return option;
  }
  if (
    typeof option !== 'object' ||
    !Number.isSafeInteger(option.uid) ||
    option.uid < 0 ||
    !Number.isSafeInteger(option.gid) ||
    option.gid < 0
  ) {
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

function checkPath(path: string, user: RunAs, who: string, what: string, stat: (path: string) => Stats): void {
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
        `${what} (${path}) cannot be reached by ${who}, which runs the builds and apps: ` +
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
