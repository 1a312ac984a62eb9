import { isFinishedBuild } from '../domain/build.entity.js';
import { isActiveDeployment } from '../domain/deployment.entity.js';
import { type Principal, requireRole } from '../domain/role.js';
import type { LogChunk, LogSubject } from '../ports/log-store.port.js';
import type { CoreDeps } from './core-deps.js';

export interface LogPage {
  /** The chunks written after `after`, oldest first. */
  chunks: LogChunk[];
  /** Resume after this cursor; the same as `after` when nothing new was written. */
  cursor: string | null;
  /**
   * No more lines will come: the build is finished, or the deployment is final (failed,
   * superseded, cancelled). A live deployment's log goes on as long as its app prints.
   */
  ended: boolean;
}

/**
 * Reads a build's or a deployment's log from the log store, for any member of its tenant
 * (viewers included); a subject of another tenant is `not_found`. Called again with the last
 * cursor, it returns only what was written since: that is how the API follows a log.
 */
/**
 * A build cancelled from the API is final at once, while its runner, told within a couple of
 * seconds, still prints its last lines: its log ends this long after it was cancelled.
 */
export const CANCELLED_LOG_GRACE_MS = 5_000;

export class ReadLogs {
  constructor(private readonly deps: Pick<CoreDeps, 'uow' | 'logStore' | 'clock'>) {}

  async execute(
    actor: Principal,
    subject: LogSubject,
    options: { after?: string | null; limit?: number } = {},
  ): Promise<LogPage> {
    requireRole(actor, 'viewer');
    // Whether it ended is read before the chunks: a line written after an end is never missed.
    const { ended, legacy } = await this.deps.uow.run(actor.tenantId, async (repos) => {
      if (subject.kind === 'build') {
        const build = await repos.builds.get(subject.id);
        const settling =
          build.status === 'cancelled' &&
          build.finishedAt !== null &&
          this.deps.clock.now().getTime() - build.finishedAt.getTime() < CANCELLED_LOG_GRACE_MS;
        return { ended: isFinishedBuild(build.status) && !settling, legacy: build.logs };
      }
      const deployment = await repos.deployments.get(subject.id);
      return { ended: !isActiveDeployment(deployment.status) && deployment.status !== 'live', legacy: '' };
    });
    const chunks = await this.deps.logStore.read(actor.tenantId, subject, {
      after: options.after ?? null,
      ...(options.limit === undefined ? {} : { limit: options.limit }),
    });
    if (chunks.length === 0 && (options.after ?? null) === null && legacy !== '') {
      // A build finished before logs were kept in chunks: its log is the row's.
      return { chunks: [{ cursor: '0', lines: legacy.split('\n'), at: new Date(0) }], cursor: '0', ended };
    }
    const cursor = chunks.length === 0 ? (options.after ?? null) : (chunks.at(-1) as LogChunk).cursor;
    return { chunks, cursor, ended };
  }
}
