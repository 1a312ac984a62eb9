import { access, lstat, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { BuildArtifact, BuildOutcome, BuildRequest, BuildRunner } from '@shipyard/core';
import { childEnv, DEFAULT_CHILD_PATH } from './child-env.js';
import { type GroupExit, spawnGroup } from './process-group.js';
import {
  type CheckedRepo,
  checkBranch,
  checkCommitSha,
  checkRepoUrl,
  RepoRefusedError,
  RepoUnreachableError,
  redact,
} from './repo-source.js';
import type { RunAs } from './runtime.types.js';
import { Sandbox, type SandboxOptions } from './sandbox.js';

export interface LocalBuildRunnerOptions extends SandboxOptions {
  /**
   * Builds run in `<workRoot>/builds/<buildId>-<attempt>`; that directory is the artifact (the
   * runtime's apps run in it). Created if missing. When the builds run as another user (`runAs`,
   * a uid per service by default under root), every directory above it must let that user through
   * (`o+x`): not under `/root` or a 0700 temp directory. The services' uids are kept in
   * `<workRoot>/uids.json` unless `identities` is given.
   */
  workRoot: string;
  /** Allow `file://`/`http://` repositories and private or loopback git hosts (development, tests). */
  allowLocalRepos?: boolean;
  /** Between SIGTERM and SIGKILL when a build is aborted. Default 5 s. */
  killGraceMs?: number;
  /**
   * HOME of the build (npm's cache lives there), made the build user's. Default
   * `<workRoot>/home`, never the server's. With a uid per service, the directory of the HOMEs:
   * each uid's is `<homeDir>/<uid>` (0700, that uid's).
   */
  homeDir?: string;
  /** PATH of the build. Default: this Node's directory and the system's directories. */
  path?: string;
  /** How many of the last output lines a failed build's `error` holds. Default 40. */
  errorTailLines?: number;
}

const ERROR_TAIL_CHARS = 4_000;

/** git's words for a host it could not talk to: retried, unlike a missing repository or branch. */
const UNREACHABLE =
  /could not resolve (host|proxy)|failed to connect|connection (refused|timed out|reset)|operation timed out|network is unreachable|no route to host|the remote end hung up unexpectedly|early eof|rpc failed|ssl|tls|gnutls|temporary failure in name resolution|http\/2 stream|empty reply from server|returned error: 5\d\d/i;

const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * The `BuildRunner` that builds for real on this machine: a shallow `git clone` of the branch,
 * the commit checked out, then the build command (or the default for a package.json) through
 * `sh -c`, each in its own process group with only the service's environment.
 *
 * When this process is root, git and the build run as an unprivileged user under `prlimit` limits:
 * by default the service's own uid (`runAs: 'per-service'`, from `identities`), else `runAs`. The
 * build directory and HOME are made that user's (0700). The work root then needs: every directory
 * above it traversable by that user (o+x), the root itself owned by this process (it stays so,
 * opened for traversal only), and room for the builds. The constructor checks what of that path
 * already exists, the first run checks it whole, and either throws a `RuntimeSetupError` naming
 * the directory in the way. Nothing to close: a run ends with its processes.
 */
export class LocalBuildRunner implements BuildRunner {
  private readonly root: string;
  private readonly path: string;
  private readonly killGraceMs: number;
  private readonly tailLines: number;
  private readonly sandbox: Sandbox;
  private ready: Promise<void> | null = null;

  constructor(private readonly options: LocalBuildRunnerOptions) {
    this.root = resolve(options.workRoot);
    this.path = options.path ?? DEFAULT_CHILD_PATH;
    this.killGraceMs = options.killGraceMs ?? 5_000;
    this.tailLines = options.errorTailLines ?? 40;
    this.sandbox = new Sandbox(options, this.path, { workRoot: this.root, homeDir: options.homeDir });
    this.sandbox.assertReachableSoFar(this.root, 'The build work root');
    if (this.sandbox.configuredHome) this.sandbox.assertReachableSoFar(this.sandbox.homePath, 'The build HOME');
  }

  /** Who the builds run as and under which limits (`a uid per service (200000–299999), data 2 GiB, …`). */
  describeSandbox(): string {
    return this.sandbox.describe();
  }

  async run(request: BuildRequest, log: (line: string) => void, signal: AbortSignal): Promise<BuildOutcome> {
    signal.throwIfAborted();
    if (!SAFE_ID.test(request.buildId) || !Number.isSafeInteger(request.attempt) || request.attempt < 0) {
      throw new TypeError('A build needs a buildId of letters, digits, ".", "_" or "-" and a whole attempt number');
    }
    let secrets: readonly string[] = [];
    const tail: string[] = [];
    const emit = (raw: string): void => {
      const line = redact(raw, secrets);
      tail.push(line);
      if (tail.length > this.tailLines) tail.shift();
      log(line);
    };
    const failed = (error: string): BuildOutcome => ({ outcome: 'failed', error: redact(error, secrets) });

    let repo: CheckedRepo;
    let branch: string;
    let commitSha: string | null;
    try {
      branch = checkBranch(request.branch);
      commitSha = request.commitSha === null ? null : checkCommitSha(request.commitSha);
      repo = await checkRepoUrl(request.repoUrl, { allowLocalRepos: this.options.allowLocalRepos === true });
    } catch (error) {
      if (!(error instanceof RepoRefusedError)) throw error;
      emit(`==> Refused: ${error.message}`);
      return failed(error.message);
    }
    secrets = repo.secrets;

    await this.prepare();
    // The service's own uid (as root): its build directory and HOME are that uid's alone.
    const user = await this.sandbox.userFor(request.serviceId);
    const home = await this.sandbox.homeOf(user);
    const dir = join(this.root, 'builds', `${request.buildId}-${request.attempt}`);
    await rm(dir, { recursive: true, force: true });
    let succeeded = false;
    try {
      // git clones into it as the build user: it is theirs from the start.
      await this.sandbox.ownedDirectory(dir, user, 0o700);
      const git = (args: string[], cwd: string, onLine = emit) =>
        this.step('git', args, cwd, this.gitEnv(repo, home), user, onLine, signal);
      const gitFailed = (what: string, lines: string[]): BuildOutcome => {
        const output = redact(lines.join('\n'), secrets);
        if (UNREACHABLE.test(output)) throw new RepoUnreachableError(`${what} failed: ${output}`);
        return failed(`${what} failed:\n${output}`.slice(0, ERROR_TAIL_CHARS));
      };

      emit(`==> Building as ${this.sandbox.describe(user)}`);
      emit(`==> Cloning ${repo.url} (branch ${branch})`);
      const cloneLines: string[] = [];
      const clone = await git(
        ['clone', '--depth', '1', '--branch', branch, '--', repo.url, dir],
        dirname(dir),
        (line) => {
          keepLast(cloneLines, line);
          emit(line);
        },
      );
      if (clone.exitCode !== 0) return gitFailed('git clone', cloneLines);

      if (commitSha !== null) {
        const resolved = await this.findCommit(commitSha, dir, git);
        if (typeof resolved !== 'string')
          return resolved.lines ? gitFailed('git fetch', resolved.lines) : failed(resolved.error);
        const checkoutLines: string[] = [];
        const checkout = await git(
          ['-c', 'advice.detachedHead=false', 'checkout', '--quiet', '--detach', resolved],
          dir,
          (line) => {
            keepLast(checkoutLines, line);
            emit(line);
          },
        );
        if (checkout.exitCode !== 0) return gitFailed('git checkout', checkoutLines);
      }
      const head: string[] = [];
      await git(['log', '-1', '--format=%H %s'], dir, (line) => head.push(line));
      emit(`==> At commit ${head.join(' ')}`);

      const command = request.buildCommand ?? (await this.detectBuildCommand(dir));
      if (command === null) {
        emit('==> No build command, and nothing to install or build: nothing to do');
      } else {
        emit(`==> Running ${request.buildCommand === null ? 'the detected build: ' : ''}${command}`);
        const env = childEnv({ path: this.path, home }, request.env);
        const exit = await this.step('sh', ['-c', command], dir, env, user, emit, signal);
        if (exit.exitCode !== 0) {
          const ending = tail.join('\n').slice(-ERROR_TAIL_CHARS);
          return failed(`The build command ${describeExit(exit)}. The last lines of its output:\n${ending}`);
        }
      }
      emit('==> Build succeeded');
      succeeded = true;
      return { outcome: 'succeeded', artifact: { kind: 'directory', path: dir } };
    } finally {
      if (!succeeded) await rm(dir, { recursive: true, force: true });
    }
  }

  /**
   * Deletes a build's artifact (cleanup once no deployment will receive it again); one already
   * gone is no error. Only a directory this runner made (`<workRoot>/builds/<name>`): anything
   * else, an image included, is refused with a `TypeError` and nothing is deleted.
   */
  async discardArtifact(artifact: BuildArtifact): Promise<void> {
    if (artifact.kind !== 'directory') throw new TypeError(`Not an artifact of this runner: image ${artifact.ref}`);
    const path = resolve(artifact.path);
    const inside = relative(join(this.root, 'builds'), path);
    if (
      inside === '' ||
      inside.startsWith('..') ||
      isAbsolute(inside) ||
      inside.includes(sep) ||
      !SAFE_ID.test(inside)
    ) {
      throw new TypeError(`Not an artifact of this runner: ${artifact.path}`);
    }
    await rm(path, { recursive: true, force: true });
  }

  /**
   * Deletes the build directories under `<workRoot>/builds` that no artifact in `keep` names and
   * that were last changed before `madeBefore` (a build still running is newer than that).
   */
  async sweepArtifacts(keep: readonly BuildArtifact[], madeBefore: Date): Promise<number> {
    const builds = join(this.root, 'builds');
    const kept = new Set(keep.flatMap((artifact) => (artifact.kind === 'directory' ? [resolve(artifact.path)] : [])));
    let names: string[];
    try {
      names = await readdir(builds);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw error;
    }
    let removed = 0;
    for (const name of names) {
      const path = join(builds, name);
      if (!SAFE_ID.test(name) || kept.has(path)) continue;
      const stats = await lstat(path).catch(() => null);
      if (stats === null || !stats.isDirectory() || stats.mtime.getTime() >= madeBefore.getTime()) continue;
      await rm(path, { recursive: true, force: true });
      removed += 1;
    }
    return removed;
  }

  /** The work root's layout, made once (again after a failure: a fixed permission is picked up). */
  private prepare(): Promise<void> {
    this.ready ??= (async () => {
      await this.sandbox.passableDirectory(this.root);
      await this.sandbox.layoutDirectory(join(this.root, 'builds'));
      await this.sandbox.prepareHome();
      await this.sandbox.assertReachable(join(this.root, 'builds'), 'The build work root');
      if (this.localGitConfig !== null) {
        // git refuses a repository another user owns ("dubious ownership"); a local repository
        // (development, tests) belongs to the server's user while git runs as the build user.
        await writeFile(this.localGitConfig, '[safe]\n\tdirectory = *\n', { mode: 0o644 });
      }
    })().catch((error: unknown) => {
      this.ready = null;
      throw error;
    });
    return this.ready;
  }

  /** A global git config trusting local repositories, when they are allowed and git runs as another user. */
  private get localGitConfig(): string | null {
    return this.options.allowLocalRepos === true && this.sandbox.separate ? join(this.root, 'gitconfig') : null;
  }

  /**
   * The full id of `commitSha` in the clone. A shallow clone holds only the branch tip, so an
   * older commit is fetched by id, or failing that (servers that refuse unadvertised ids, short
   * ids) with the whole history of every branch.
   */
  private async findCommit(
    commitSha: string,
    dir: string,
    git: (args: string[], cwd: string, onLine?: (line: string) => void) => Promise<GroupExit>,
  ): Promise<string | { error: string; lines?: string[] }> {
    const verify = async (): Promise<string | null> => {
      const out: string[] = [];
      const exit = await git(['rev-parse', '--verify', '--quiet', `${commitSha}^{commit}`], dir, (line) =>
        out.push(line),
      );
      return exit.exitCode === 0 && out.length === 1 ? out[0]!.trim() : null;
    };
    const present = await verify();
    if (present !== null) return present;
    if (commitSha.length === 40 || commitSha.length === 64) {
      const byId = await git(['fetch', '--quiet', '--depth', '1', 'origin', commitSha], dir, () => {});
      if (byId.exitCode === 0) {
        const fetched = await verify();
        if (fetched !== null) return fetched;
      }
    }
    const lines: string[] = [];
    const all = await git(
      ['fetch', '--quiet', '--unshallow', '--tags', 'origin', '+refs/heads/*:refs/remotes/origin/*'],
      dir,
      (line) => keepLast(lines, line),
    );
    if (all.exitCode !== 0) return { error: 'git fetch failed', lines };
    return (await verify()) ?? { error: `Commit ${commitSha} is not in the repository` };
  }

  /**
   * A package.json means: install (`npm ci` with a lock file; `npm install` without one, unless
   * nothing is to be installed), then `npm run build` if there is such a script.
   */
  private async detectBuildCommand(dir: string): Promise<string | null> {
    let manifest: Record<string, unknown> & { scripts?: Record<string, unknown> };
    try {
      manifest = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      if (error instanceof SyntaxError) return 'npm install'; // let npm say what is wrong with it
      throw error;
    }
    const locked = (await exists(join(dir, 'package-lock.json'))) || (await exists(join(dir, 'npm-shrinkwrap.json')));
    const install = locked ? 'npm ci' : needsInstall(manifest) ? 'npm install' : null;
    const build = typeof manifest?.scripts?.build === 'string' ? 'npm run build' : null;
    const steps = [install, build].filter((step) => step !== null);
    return steps.length === 0 ? null : steps.join(' && ');
  }

  private gitEnv(repo: CheckedRepo, home: string): Record<string, string> {
    const config = repo.gitConfig;
    return {
      ...childEnv({ path: this.path, home }, {}),
      GIT_TERMINAL_PROMPT: '0',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: this.localGitConfig ?? '/dev/null',
      GIT_ALLOW_PROTOCOL: this.options.allowLocalRepos === true ? 'https:http:file' : 'https',
      GIT_PROTOCOL_FROM_USER: '0',
      GIT_CONFIG_COUNT: String(config.length),
      ...Object.fromEntries(
        config.flatMap(([key, value], index) => [
          [`GIT_CONFIG_KEY_${index}`, key],
          [`GIT_CONFIG_VALUE_${index}`, value],
        ]),
      ),
    };
  }

  /** Runs one command in its own process group; an abort kills the group, then rethrows the reason. */
  private async step(
    file: string,
    args: string[],
    cwd: string,
    env: Record<string, string>,
    user: RunAs | null,
    onLine: (line: string) => void,
    signal: AbortSignal,
  ): Promise<GroupExit> {
    signal.throwIfAborted();
    const command = this.sandbox.command(file, args);
    const child = await spawnGroup(command.file, command.args, { cwd, env, onLine, ...this.sandbox.identity(user) });
    const onAbort = (): void => {
      void child.terminate(this.killGraceMs);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) onAbort();
    try {
      const exit = await child.exited;
      if (signal.aborted) {
        await child.terminate(this.killGraceMs);
        throw signal.reason;
      }
      return exit;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }
}

/** Whether a package.json without a lock file declares anything to install. */
function needsInstall(manifest: Record<string, unknown>): boolean {
  if (typeof manifest !== 'object' || manifest === null) return true;
  if (manifest.workspaces !== undefined) return true;
  return ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies'].some((field) => {
    const value = manifest[field];
    return value !== undefined && (typeof value !== 'object' || value === null || Object.keys(value).length > 0);
  });
}

function describeExit(exit: GroupExit): string {
  return exit.signal !== null ? `was killed by ${exit.signal}` : `exited with code ${exit.exitCode}`;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

/** Git output kept to explain a failure: the last lines only, however much a remote prints. */
const GIT_LINES_KEPT = 200;

function keepLast(lines: string[], line: string): void {
  lines.push(line.length > 2_000 ? `${line.slice(0, 2_000)} [line cut]` : line);
  if (lines.length > GIT_LINES_KEPT) lines.shift();
}
