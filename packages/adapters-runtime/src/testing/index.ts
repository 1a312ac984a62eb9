export {
  artifactPath,
  createFixtureRepo,
  type FixtureRepo,
  get,
  killProcessesUnder,
  OFFLINE_NPM,
  tempDir,
} from './fixture-repo.js';
