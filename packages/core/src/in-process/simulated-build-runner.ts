import { maskRepoUrl } from '../domain/repo-url.js';
import type { BuildArtifact, BuildOutcome, BuildRequest, BuildRunner } from '../ports/build-runner.port.js';

export interface SimulationOptions<R> {
  /** How long each run takes (real time). */
  durationMs?: number;
  /** The run's own failure: a message makes it fail, null lets it succeed. */
  failWhen?: (request: R) => string | null;
  /** The first N calls throw, as a broken infrastructure would (the job is then retried). */
  infrastructureFailures?: number;
  /**
   * How many of the latest requests (and, for the runtime, ended instances) are kept for tests
   * to read; older ones are forgotten, so a long-running simulated server stays bounded.
   */
  history?: number;
}

/** Default of `SimulationOptions.history`. */
export const SIMULATION_HISTORY = 1_000;

/** Appends `item`, dropping the oldest entries past `max`. */
export function remember<T>(list: T[], item: T, max: number): void {
  list.push(item);
  if (list.length > max) list.splice(0, list.length - max);
}

// A command that a shell would end with a non-zero status: `false` or `exit N` with N ≠ 0.
const FAILING_COMMAND = /(^|[;&|]\s*|\s)(false|exit\s+[1-9]\d*)(\s*($|[;&|]))/;

export const defaultBuildFailure = (request: BuildRequest): string | null =>
  request.buildCommand !== null && FAILING_COMMAND.test(request.buildCommand)
    ? `Build command exited with a non-zero status: ${request.buildCommand}`
    : null;

export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    // The listener goes with the timer: a long-lived signal shared by many calls keeps none of them.
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * The credentials of a repository URL (`https://user:token@host/…`) as they may appear in text:
 * the runner must mask them wherever it logs, as a real one masks them in git's output.
 */
function urlSecrets(repoUrl: string): string[] {
  let url: URL;
  try {
    url = new URL(repoUrl);
  } catch {
    return [];
  }
  const secret = url.password !== '' ? url.password : url.username;
  if (secret === '') return [];
  let decoded = secret;
  try {
    decoded = decodeURIComponent(secret);
  } catch {
    // kept as it is
  }
  return [...new Set([secret, decoded])].filter((text) => text.length > 0);
}

const mask = (text: string, secrets: readonly string[]): string =>
  secrets.reduce((masked, secret) => masked.split(secret).join('***'), text);

/**
 * A deterministic build runner: writes plausible logs, takes `durationMs`, fails a build whose
 * command would fail (`false`, `exit 1`) or as `failWhen` says, and can simulate infrastructure
 * failures. Honors cancellation through the abort signal. Credentials in the repository URL are
 * masked in every line it logs and in its errors. It keeps the latest requests (`calls`,
 * environment included; `history`, 1000 by default) for tests to read.
 */
export class SimulatedBuildRunner implements BuildRunner {
  /** The latest requests it received (up to `history`), in order. */
  readonly calls: BuildRequest[] = [];
  /** The latest artifacts passed to `discardArtifact` (up to `history`), in order. */
  readonly discarded: BuildArtifact[] = [];
  private remainingInfraFailures: number;

  constructor(private readonly options: SimulationOptions<BuildRequest> = {}) {
    this.remainingInfraFailures = options.infrastructureFailures ?? 0;
  }

  async run(request: BuildRequest, print: (line: string) => void, signal: AbortSignal): Promise<BuildOutcome> {
    remember(this.calls, request, this.options.history ?? SIMULATION_HISTORY);
    const secrets = urlSecrets(request.repoUrl);
    const log = (line: string): void => print(mask(line, secrets));
    if (this.remainingInfraFailures > 0) {
      this.remainingInfraFailures -= 1;
      throw new Error('simulated infrastructure failure: build host unreachable');
    }
    log(`Cloning ${maskRepoUrl(request.repoUrl, false)} (${request.commitSha ?? request.branch})`);
    log(`Attempt ${request.attempt}; ${Object.keys(request.env).length} env var(s) set`);
    try {
      await delay(this.options.durationMs ?? 0, signal);
    } catch {
      log('Build cancelled');
      return { outcome: 'failed', error: 'Build cancelled' };
    }
    const failure = (this.options.failWhen ?? defaultBuildFailure)(request);
    if (request.buildCommand !== null) log(`$ ${request.buildCommand}`);
    if (failure !== null) {
      log(failure);
      return { outcome: 'failed', error: mask(failure, secrets) };
    }
    log('Build succeeded');
    return {
      outcome: 'succeeded',
      artifact: { kind: 'image', ref: `simulated/${request.serviceId}:${request.buildId}` },
    };
  }

  async discardArtifact(artifact: BuildArtifact): Promise<void> {
    remember(this.discarded, artifact, this.options.history ?? SIMULATION_HISTORY);
  }
}
