import {
  type CoreDeps,
  createUseCases,
  JobHandlers,
  type JobQueue,
  type Principal,
  type Service,
  type UseCases,
} from '@shipyard/core';
import { type HarnessOptions, TestHarness } from '@shipyard/core/testing';

export interface CoreWorld {
  harness: TestHarness;
  deps: CoreDeps;
  useCases: UseCases;
  handlers: JobHandlers;
  owner: Principal;
  service: Service;
}

/**
 * The core on in-memory adapters (the harness's database, clock and simulated runners) but with
 * `jobs` published to the queue under test instead of the harness's recording queue.
 */
export async function coreWorld(jobs: () => JobQueue, options: HarnessOptions = {}): Promise<CoreWorld> {
  const harness = new TestHarness(options);
  const deps: CoreDeps = {
    ...harness.deps,
    jobs: { enqueue: (job) => jobs().enqueue(job), liveJobs: (refs) => jobs().liveJobs(refs) },
  };
  const useCases = createUseCases(deps);
  const handlers = new JobHandlers(useCases);
  const { principal: owner } = await harness.signUp();
  const project = await harness.useCases.createProject.execute(owner, { name: 'Website' });
  const service = await harness.useCases.createService.execute(owner, project.id, {
    name: 'web',
    repoUrl: 'https://github.com/acme/web.git',
  });
  return { harness, deps, useCases, handlers, owner, service };
}
