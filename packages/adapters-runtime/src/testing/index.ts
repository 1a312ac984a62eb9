export {
  artifactPath,
  createFixtureRepo,
  type FixtureRepo,
  get,
  killProcessesUnder,
  OFFLINE_NPM,
  tempDir,
} from './fixture-repo.js';
export { type PrivateGitServer, servePrivateRepo } from './git-http-server.js';
