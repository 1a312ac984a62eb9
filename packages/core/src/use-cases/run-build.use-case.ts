import { ConflictError } from '../domain/app.errors.js';
import type { Build } from '../domain/build.entity.js';
import type { Service } from '../domain/service.entity.js';
import type { JobPayloads } from '../jobs/job.types.js';
import type { BuildOutcome } from '../ports/build-runner.port.js';
import type { CoreDeps } from './core-deps.js';
import { startDeployment } from './deployment.use-cases.js';
import { scheduleJob, settleServiceStatus } from './outbox.js';
import { retryOnConflict } from './retry.js';
import { decryptEnv } from './service-env.js';

export type RunBuildResult = 'succeeded' | 'failed' | 'skipped';

/**
 * The build job. Idempotent: a build that is no longer queued or running is left alone, and a
 * claim is a versioned write, so of two deliveries racing only one runs the build. The runner's
 * own failure is final (`failed`); a runner that throws (infrastructure) leaves the build
 * `running` and rethrows, so the queue retries it as a new attempt.
 */
export class RunBuild {
  constructor(
    private readonly deps: Pick<
      CoreDeps,
      'uow' | 'clock' | 'ids' | 'buildRunner' | 'encryptor' | 'logger' | 'settings'
    >,
  ) {}

  async execute(payload: JobPayloads['build.run'], signal?: AbortSignal): Promise<RunBuildResult> {
    void signal;
    const tenantId = payload.tenant_id;
    const claimed = await this.claim(tenantId, payload.build_id);
    if (claimed === null) return 'skipped';
    const { build, service } = claimed;
    const log = this.deps.logger.child({ tenant_id: tenantId, build_id: build.id, attempt: build.attempt });

    const lines: string[] = [];
    let outcome: BuildOutcome | undefined;
    const controller = new AbortController();
    const stopWatching = this.watchCancellation(tenantId, build.id, controller);
    try {
      let env: Record<string, string>;
      try {
        env = await decryptEnv(this.deps.encryptor, tenantId, service.id, service.env);
      } catch (error) {
        log.error({ err: error }, 'cannot decrypt the service env vars');
        outcome = { outcome: 'failed', error: 'The service env vars cannot be decrypted' };
        env = {};
      }
      outcome ??= await this.deps.buildRunner.run(
        {
          tenantId,
          buildId: build.id,
          serviceId: service.id,
          attempt: build.attempt,
          repoUrl: service.repoUrl,
          branch: build.branch,
          commitSha: build.commitSha,
          buildCommand: service.buildCommand,
          env,
        },
        (line) => lines.push(line),
        controller.signal,
      );
    } finally {
      stopWatching();
    }
    const result = await this.finish(tenantId, build.id, build.attempt, outcome, lines.join('\n'));
    log.info({ outcome: result }, 'build job done');
    return result;
  }

  /**
   * Marks the build failed once the queue has given up retrying it (its runner kept throwing).
   */
  async giveUp(payload: JobPayloads['build.run'], reason: string): Promise<void> {
    await retryOnConflict(() => this.giveUpOnce(payload, reason));
  }

  private async giveUpOnce(payload: JobPayloads['build.run'], reason: string): Promise<void> {
    await this.deps.uow.run(async (repos) => {
      const build = await repos.builds.find(payload.tenant_id, payload.build_id);
      if (build === null || (build.status !== 'queued' && build.status !== 'running')) return;
      const now = this.deps.clock.now();
      if (build.status === 'queued') build.start(now);
      build.fail(`Gave up after ${build.attempt} attempt(s): ${reason}`, '', now);
      await repos.builds.update(payload.tenant_id, build);
      const service = await repos.services.get(payload.tenant_id, build.serviceId);
      await settleServiceStatus(repos, payload.tenant_id, service, now, 'failed');
      await scheduleJob(this.deps, repos, 'notification.send', {
        tenant_id: payload.tenant_id,
        event: 'build.finished',
        subject_id: build.id,
        status: 'failed',
      });
    });
  }

  /**
   * Takes the build: a versioned write of the build row alone, so a conflict means another
   * delivery took it first. The service's status is written apart, retried on conflicts with
   * other builds of the same service.
   */
  private async claim(tenantId: string, buildId: string): Promise<{ build: Build; service: Service } | null> {
    let build: Build | null;
    try {
      build = await this.deps.uow.run(async (repos) => {
        const found = await repos.builds.find(tenantId, buildId);
        if (found === null || (found.status !== 'queued' && found.status !== 'running')) return null;
        found.start(this.deps.clock.now());
        await repos.builds.update(tenantId, found);
        return found;
      });
    } catch (error) {
      if (error instanceof ConflictError) return null;
      throw error;
    }
    if (build === null) return null;
    const claimed = build;
    const service = await retryOnConflict(() =>
      this.deps.uow.run(async (repos) => {
        const current = await repos.services.get(tenantId, claimed.serviceId);
        if (current.setStatus('building', this.deps.clock.now())) await repos.services.update(tenantId, current);
        return current;
      }),
    );
    return { build: claimed, service };
  }

  private async finish(
    tenantId: string,
    buildId: string,
    attempt: number,
    outcome: BuildOutcome,
    logs: string,
  ): Promise<RunBuildResult> {
    // Other builds and deployments of the service write its row too: re-read and retry.
    return retryOnConflict(() => this.finishOnce(tenantId, buildId, attempt, outcome, logs));
  }

  private finishOnce(
    tenantId: string,
    buildId: string,
    attempt: number,
    outcome: BuildOutcome,
    logs: string,
  ): Promise<RunBuildResult> {
    return this.deps.uow.run(async (repos) => {
      const build = await repos.builds.find(tenantId, buildId);
      // Cancelled meanwhile, or a later attempt took over: this run's result is moot.
      if (build === null || build.status !== 'running' || build.attempt !== attempt) return 'skipped';
      const now = this.deps.clock.now();
      const succeeded = outcome.outcome === 'succeeded';
      if (outcome.outcome === 'succeeded') build.succeed(logs, now);
      else build.fail(outcome.error, logs, now);
      await repos.builds.update(tenantId, build);

      const service = await repos.services.get(tenantId, build.serviceId);
      if (succeeded && service.autoDeploy) {
        await startDeployment(this.deps, repos, tenantId, service.id, build.id);
      } else {
        await settleServiceStatus(repos, tenantId, service, now, succeeded ? 'idle' : 'failed');
      }
      await scheduleJob(this.deps, repos, 'notification.send', {
        tenant_id: tenantId,
        event: 'build.finished',
        subject_id: build.id,
        status: succeeded ? 'succeeded' : 'failed',
      });
      return succeeded ? 'succeeded' : 'failed';
    });
  }

  private watchCancellation(tenantId: string, buildId: string, controller: AbortController): () => void {
    const interval = this.deps.settings.cancelCheckIntervalMs;
    if (interval <= 0) return () => {};
    const timer = setInterval(() => {
      this.deps.uow
        .run((repos) => repos.builds.find(tenantId, buildId))
        .then((build) => {
          if (build?.status === 'cancelled') controller.abort(new Error('Build cancelled'));
        })
        .catch((error: unknown) =>
          this.deps.logger.warn({ err: error, build_id: buildId }, 'cancellation check failed'),
        );
    }, interval);
    timer.unref?.();
    return () => clearInterval(timer);
  }
}
