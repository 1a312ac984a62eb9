import { ConflictError } from '../domain/app.errors.js';
import { type Build, isFinishedBuild, MAX_BUILD_LOG_LENGTH } from '../domain/build.entity.js';
import { type JobPayloads, jobLogFields } from '../domain/job.types.js';
import type { Service } from '../domain/service.entity.js';
import type { BuildOutcome } from '../ports/build-runner.port.js';
import type { Logger } from '../ports/logger.port.js';
import { recordAudit } from './audit.use-cases.js';
import type { CoreDeps } from './core-deps.js';
import { startDeployment } from './deployment.use-cases.js';
import { abandonAfterAbort, abortKind, leaseEnd, linkedController, waitForDatabase } from './job-lease.js';
import { BUILD_ROWS, endAttempt, watchAttempt } from './leased-rows.js';
import { LogTail, LogWriter } from './log-writer.js';
import { scheduleJob } from './outbox.js';
import { retryOnConflict } from './retry.js';
import { cloneUrl, decryptEnv } from './service-env.js';
import { settleServiceStatus } from './service-status.js';

export type RunBuildResult = 'succeeded' | 'failed' | 'skipped';

type BuildDeps = Pick<
  CoreDeps,
  'uow' | 'clock' | 'ids' | 'buildRunner' | 'encryptor' | 'logger' | 'settings' | 'logStore'
>;

const firstLine = (text: string): string => text.split('\n', 1)[0] ?? '';

type Claim = { kind: 'claimed'; build: Build; service: Service } | { kind: 'skipped' } | { kind: 'exhausted' };

const NEVER_ABORTED = new AbortController().signal;

/**
 * The build job. The row is the truth: a delivery claims the build (a versioned write that takes
 * a lease), so of two deliveries only one runs it, and a build that is finished, or running under
 * another worker's live lease, is left alone. Every claim is an attempt, stalls included; past
 * `maxJobAttempts` the build fails for good. The runner's own failure is final (`failed`); a
 * runner that throws (infrastructure) or outlives the job's timeout frees the row and rethrows, so
 * the queue runs it again. While it runs, the lease is renewed and a cancel aborts the runner.
 */
export class RunBuild {
  constructor(private readonly deps: BuildDeps) {}

  /**
   * `logger`: the job's, bound to its id, tenant and build (see `JobContext`); omitted, one bound
   * to the tenant and build here. Every line of the run carries those, and the service's id.
   */
  async execute(
    payload: JobPayloads['build.run'],
    signal: AbortSignal = NEVER_ABORTED,
    logger: Logger = this.deps.logger.child(jobLogFields(payload)),
  ): Promise<RunBuildResult> {
    const tenantId = payload.tenant_id;
    const claim = await this.claim({ ...this.deps, logger }, tenantId, payload.build_id, signal);
    if (claim.kind === 'skipped') return 'skipped';
    if (claim.kind === 'exhausted') return 'failed';
    const { build, service } = claim;
    const attempt = build.attempt;
    const log = logger.child({ service_id: service.id, build_attempt: attempt });
    const deps: BuildDeps = { ...this.deps, logger: log };

    // The row keeps the tail of this attempt's output; the log store keeps it all, as printed.
    const tail = new LogTail(MAX_BUILD_LOG_LENGTH);
    const writer = new LogWriter(deps, tenantId, { kind: 'build', id: build.id });
    const print = (line: string) => {
      tail.push(line);
      writer.push(line);
    };
    print(`==> Build attempt ${attempt}`);
    const { controller, unlink } = linkedController(signal);
    const at = { tenantId, id: build.id, attempt };
    const stopWatching = watchAttempt(deps, BUILD_ROWS, at, controller);
    let outcome: BuildOutcome;
    try {
      outcome = await abandonAfterAbort(
        this.runRunner(deps, tenantId, build, service, controller.signal, print),
        controller.signal,
        deps.settings.runnerAbortGraceMs,
      );
    } catch (error) {
      stopWatching();
      unlink();
      print(`==> Attempt ${attempt} ended without an outcome: ${(error as Error)?.message ?? String(error)}`);
      await writer.close();
      return endAttempt(deps, BUILD_ROWS, at, controller.signal, error, signal);
    } finally {
      stopWatching();
      unlink();
    }
    const aborted = abortKind(controller.signal);
    if (aborted === 'job') {
      // The job's timeout (or a stopping worker) cut the build short: an attempt without an outcome.
      print(`==> Attempt ${attempt} aborted: ${(controller.signal.reason as Error)?.message ?? 'aborted'}`);
      await writer.close();
      return endAttempt(deps, BUILD_ROWS, at, controller.signal, controller.signal.reason, signal);
    }
    print(outcome.outcome === 'succeeded' ? '==> Succeeded' : `==> Failed: ${firstLine(outcome.error)}`);
    // Every line is in the store before the build is final: a reader that sees the end saw them all.
    await writer.close();
    const result = await waitForDatabase(deps, () =>
      retryOnConflict(() => this.finishOnce(deps, tenantId, build.id, attempt, outcome, tail.text())),
    );
    log.info({ outcome: result }, 'build job done');
    return result;
  }

  /**
   * The queue gave up on the job (its last delivery failed). The build fails only if its attempts
   * are spent; otherwise its lease is freed and the reconciler publishes it again.
   */
  async giveUp(payload: JobPayloads['build.run'], reason: string): Promise<void> {
    await retryOnConflict(() =>
      this.deps.uow.run(payload.tenant_id, async (repos) => {
        const build = await repos.builds.find(payload.build_id);
        if (build === null || isFinishedBuild(build.status)) return;
        if (build.attempt >= this.deps.settings.maxJobAttempts) {
          await BUILD_ROWS.failForGood(this.deps, repos, build, reason);
        } else if (build.status === 'running') {
          build.releaseLease(reason, this.deps.clock.now());
          await repos.builds.update(build);
        }
      }),
    );
  }

  private async runRunner(
    deps: BuildDeps,
    tenantId: string,
    build: Build,
    service: Service,
    signal: AbortSignal,
    log: (line: string) => void,
  ): Promise<BuildOutcome> {
    let env: Record<string, string>;
    let repoUrl: string;
    try {
      env = await decryptEnv(deps.encryptor, tenantId, service.id, service.env);
      repoUrl = await cloneUrl(deps.encryptor, tenantId, service);
    } catch (error) {
      deps.logger.error({ err: error }, 'cannot decrypt the service env vars or repository credentials');
      return { outcome: 'failed', error: 'The service env vars or repository credentials cannot be decrypted' };
    }
    return deps.buildRunner.run(
      {
        tenantId: tenantId,
        buildId: build.id,
        serviceId: service.id,
        attempt: build.attempt,
        repoUrl,
        branch: build.branch,
        commitSha: build.commitSha,
        buildCommand: service.buildCommand,
        env,
      },
      log,
      signal,
    );
  }

  /**
   * Takes the build: a versioned write of the build row alone, so a conflict means another
   * delivery took it first. The service's status is written apart, retried on conflicts with
   * other builds of the same service.
   */
  private async claim(deps: BuildDeps, tenantId: string, buildId: string, signal: AbortSignal): Promise<Claim> {
    let claim: Claim;
    try {
      claim = await waitForDatabase(deps, () => this.takeRow(deps, tenantId, buildId), signal);
    } catch (error) {
      if (error instanceof ConflictError) return { kind: 'skipped' };
      throw error;
    }
    if (claim.kind !== 'claimed') return claim;
    const claimed = claim.build;
    // Apart, so that a database lost in between never makes this worker skip its own claim.
    const service = await waitForDatabase(deps, () =>
      retryOnConflict(() =>
        deps.uow.run(tenantId, async (repos) => {
          const current = await repos.services.get(claimed.serviceId);
          if (current.setStatus('building', deps.clock.now())) await repos.services.update(current);
          return current;
        }),
      ),
    );
    return { kind: 'claimed', build: claimed, service };
  }

  private takeRow(deps: BuildDeps, tenantId: string, buildId: string): Promise<Claim> {
    return deps.uow.run(tenantId, async (repos): Promise<Claim> => {
      const found = await repos.builds.find(buildId);
      if (found === null || isFinishedBuild(found.status)) return { kind: 'skipped' };
      const now = deps.clock.now();
      if (found.isLeased(now)) return { kind: 'skipped' };
      if (found.attempt >= deps.settings.maxJobAttempts) {
        await BUILD_ROWS.failForGood(deps, repos, found, found.error ?? 'its worker stopped each time');
        return { kind: 'exhausted' };
      }
      found.start(now, leaseEnd(deps, now));
      await repos.builds.update(found);
      return { kind: 'claimed', build: found, service: undefined as unknown as Service };
    });
  }

  private finishOnce(
    deps: BuildDeps,
    tenantId: string,
    buildId: string,
    attempt: number,
    outcome: BuildOutcome,
    logs: string,
  ): Promise<RunBuildResult> {
    return deps.uow.run(tenantId, async (repos) => {
      const build = await repos.builds.find(buildId);
      // Cancelled meanwhile, or a later attempt took over: this run's result is moot.
      if (build === null || build.status !== 'running' || build.attempt !== attempt) return 'skipped';
      const now = deps.clock.now();
      const succeeded = outcome.outcome === 'succeeded';
      if (outcome.outcome === 'succeeded') build.succeed(logs, outcome.artifact, now);
      else build.fail(outcome.error, logs, now);
      await repos.builds.update(build);

      const service = await repos.services.get(build.serviceId);
      if (succeeded && service.autoDeploy) {
        const deployment = await startDeployment(deps, repos, service.id, build.id);
        await recordAudit(deps, repos, 'system', {
          action: 'deployment.create',
          target: { type: 'deployment', id: deployment.id },
          summary: { service_id: service.id, build_id: build.id, trigger: 'auto_deploy' },
        });
      } else {
        await settleServiceStatus(repos, service, now, succeeded ? 'idle' : 'failed');
      }
      await scheduleJob(deps, repos, 'notification.send', {
        event: 'build.finished',
        subject_id: build.id,
        status: succeeded ? 'succeeded' : 'failed',
      });
      return succeeded ? 'succeeded' : 'failed';
    });
  }
}
