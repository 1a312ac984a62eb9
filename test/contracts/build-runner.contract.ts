import type { BuildOutcome, BuildRequest, BuildRunner } from '@shipyard/core';
import test, { type ExecutionContext } from 'ava';

/** What the suite needs from an implementation, for one test. */
export interface BuildRunnerSubject {
  runner: BuildRunner;
  /**
   * A request that builds the fixture app (the tip of its branch) and succeeds, with `overrides`
   * applied (a `buildCommand` of the suite's, env vars). Each call is a new build.
   */
  request(overrides?: Partial<BuildRequest>): BuildRequest;
  /**
   * A build that runs until `release()` is called (or, for a simulation, for a while): its first
   * line is printed before, the rest after. `ordered` are lines it prints in this order.
   */
  slowBuild(): { request: BuildRequest; ordered: RegExp[]; release(): Promise<void> };
  /** A request for a private repository: its URL holds credentials, of which `secret` must never be shown. */
  privateRepo(): Promise<{ request: BuildRequest; secret: string }>;
  /** A runner and a request for which the infrastructure fails (the git host cannot be reached). */
  unreachable(): Promise<{ runner: BuildRunner; request: BuildRequest }>;
  /**
   * Whether the runner really runs build commands (their output reaches the log). A simulation
   * does not: the suite's assertions on what a command printed are skipped for it.
   */
  runsCommands: boolean;
  close(): Promise<void>;
}

export type BuildRunnerFactory = () => Promise<BuildRunnerSubject>;

/** Server secrets put in this process's environment while the suite runs: no build may see them. */
export const SERVER_SECRETS = {
  JWT_SECRET: 'contract-server-jwt-secret-never-for-builds',
  DATABASE_URL: 'postgres://server-only:contract-db-password@127.0.0.1/never-for-apps',
} as const;

/** Puts SERVER_SECRETS in process.env for the suite's run (each test file is its own process). */
export function withServerSecrets(): void {
  const before: Record<string, string | undefined> = {};
  test.before(() => {
    for (const [key, value] of Object.entries(SERVER_SECRETS)) {
      before[key] = process.env[key];
      process.env[key] = value;
    }
  });
  test.after.always(() => {
    for (const [key, value] of Object.entries(before)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });
}

const never = new AbortController().signal;

/** The contract of every `BuildRunner`. */
export function buildRunnerContract(label: string, factory: BuildRunnerFactory): void {
  const name = `${label} build runner`;
  withServerSecrets();

  async function subject(t: ExecutionContext): Promise<BuildRunnerSubject> {
    const made = await factory();
    t.teardown(() => made.close());
    return made;
  }

  /** Runs a build, keeping every line it logs and whether the run had settled when each arrived. */
  function run(runner: BuildRunner, request: BuildRequest, signal = never, onLine: (line: string) => void = () => {}) {
    const lines: Array<{ line: string; settled: boolean }> = [];
    let settled = false;
    const outcome = runner
      .run(
        request,
        (line) => {
          lines.push({ line, settled });
          onLine(line);
        },
        signal,
      )
      .finally(() => {
        settled = true;
      });
    return { lines, outcome };
  }

  test(`${name}: log lines arrive in order while the build runs`, async (t) => {
    const { runner, slowBuild } = await subject(t);
    const { request, ordered, release } = slowBuild();
    let released = false;
    const { lines, outcome } = run(runner, request, AbortSignal.timeout(30_000), () => {
      if (!released) {
        released = true;
        void release();
      }
    });
    const result = await outcome;
    t.is(result.outcome, 'succeeded', result.outcome === 'failed' ? result.error : '');
    t.true(lines.length > 0);
    t.false(lines[0]?.settled, 'the first line came only once the run had resolved');
    let from = 0;
    for (const pattern of ordered) {
      const at = lines.findIndex((entry, index) => index >= from && pattern.test(entry.line));
      t.true(at >= 0, `no line ${pattern} after line ${from} in:\n${lines.map((entry) => entry.line).join('\n')}`);
      from = at + 1;
    }
  });

  test(`${name}: a failing build command resolves failed, with the tail of its log as the error`, async (t) => {
    const { runner, request, runsCommands } = await subject(t);
    const { lines, outcome } = run(
      runner,
      request({ buildCommand: 'echo compiling; echo "boom: the last words" >&2; exit 3' }),
    );
    const result: BuildOutcome = await outcome;
    t.is(result.outcome, 'failed');
    if (result.outcome !== 'failed') return;
    t.regex(result.error, /boom: the last words/);
    if (runsCommands) {
      t.true(lines.some((entry) => entry.line === 'boom: the last words'));
      t.regex(result.error, /(^|\n)compiling(\n|$)/);
    }
  });

  test(`${name}: an abort ends the build: it rejects with the reason or resolves failed`, async (t) => {
    const { runner, slowBuild } = await subject(t);
    const { request } = slowBuild(); // never released: only the abort ends it
    const controller = new AbortController();
    const reason = new Error('cancelled by the contract');
    const { outcome } = run(runner, request, controller.signal, () => controller.abort(reason));
    const settled = await outcome.then(
      (result) => ({ resolved: result }),
      (error: unknown) => ({ rejected: error }),
    );
    if ('rejected' in settled) t.is(settled.rejected, reason);
    else t.is(settled.resolved.outcome, 'failed');
  });

  test(`${name}: the build sees its env vars and nothing of the server's`, async (t) => {
    const { runner, request, runsCommands } = await subject(t);
    const { lines, outcome } = run(
      runner,
      request({
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell's parameter expansion
        buildCommand: 'echo "greeting=$GREETING jwt=${JWT_SECRET:-unset} db=${DATABASE_URL:-unset}"',
        env: { GREETING: 'hello from the service' },
      }),
    );
    const result = await outcome;
    t.is(result.outcome, 'succeeded', result.outcome === 'failed' ? result.error : '');
    const everything = lines.map((entry) => entry.line).join('\n');
    for (const secret of Object.values(SERVER_SECRETS)) t.false(everything.includes(secret));
    if (runsCommands) t.true(everything.includes('greeting=hello from the service jwt=unset db=unset'));
  });

  test(`${name}: credentials in the repository URL are shown in no log line and no error`, async (t) => {
    const { runner, privateRepo, runsCommands } = await subject(t);
    const { request, secret } = await privateRepo();
    t.true(request.repoUrl.includes(secret));
    // The build prints the secret itself: it is masked as well.
    const { lines, outcome } = run(runner, { ...request, buildCommand: `echo "the token is ${secret}"; exit 4` });
    const result = await outcome;
    t.is(result.outcome, 'failed');
    const everything = [...lines.map((entry) => entry.line), result.outcome === 'failed' ? result.error : ''].join(
      '\n',
    );
    t.false(everything.includes(secret));
    if (runsCommands) t.true(lines.some((entry) => /^the token is \*+$/.test(entry.line)));
  });

  test(`${name}: an infrastructure failure rejects (the job is retried)`, async (t) => {
    const { unreachable } = await subject(t);
    const broken = await unreachable();
    await t.throwsAsync(broken.runner.run(broken.request, () => {}, never));
  });

  test(`${name}: a built artifact can be discarded, twice without error`, async (t) => {
    const { runner, request } = await subject(t);
    const result = await runner.run(request({ buildCommand: 'true' }), () => {}, never);
    if (result.outcome !== 'succeeded') return t.fail(result.error);
    await runner.discardArtifact(result.artifact);
    await runner.discardArtifact(result.artifact);
    t.pass();
  });
}
