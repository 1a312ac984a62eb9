export { AppsRouter, type AppsRouterOptions, appHostname, type Route, serviceSlug, shortId } from './apps-router.js';
export { DEFAULT_CHILD_PATH } from './child-env.js';
export { LocalBuildRunner, type LocalBuildRunnerOptions } from './local-build-runner.js';
export {
  DeploymentStoppedError,
  LocalProcessRuntime,
  type LocalProcessRuntimeOptions,
} from './local-process-runtime.js';
export { SpawnError } from './process-group.js';
export {
  type CheckedRepo,
  checkBranch,
  checkCommitSha,
  checkRepoUrl,
  isNonPublicAddress,
  RepoRefusedError,
  type RepoSourceOptions,
  RepoUnreachableError,
} from './repo-source.js';
export type * from './runtime.types.js';
export { nobodyUser, RuntimeSetupError, type SandboxOptions } from './sandbox.js';
export { ServiceIdentities, type ServiceIdentitiesOptions } from './service-identities.js';
