export { groupAlive } from '../process-group.js';
export {
  artifactPath,
  createFixtureRepo,
  createRepoFromDirectory,
  type FixtureRepo,
  fixtureBuildRequest,
  fixtureRepoHooks,
  get,
  killProcessesUnder,
  OFFLINE_NPM,
  tempDir,
} from './fixture-repo.js';
export { type PrivateGitServer, servePrivateRepo } from './git-http-server.js';
