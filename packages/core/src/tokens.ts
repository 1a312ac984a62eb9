import type { CoreDeps } from './use-cases/core-deps.js';

/**
 * Injection tokens for the ports and the use cases. Plain symbols: any container (Inversify in
 * the adapters' modules) can bind them without the core knowing it.
 */
export const TOKENS = {
  UnitOfWork: Symbol.for('shipyard.UnitOfWork'),
  Clock: Symbol.for('shipyard.Clock'),
  IdGenerator: Symbol.for('shipyard.IdGenerator'),
  PasswordHasher: Symbol.for('shipyard.PasswordHasher'),
  CommonPasswords: Symbol.for('shipyard.CommonPasswords'),
  TokenIssuer: Symbol.for('shipyard.TokenIssuer'),
  TokenBlacklist: Symbol.for('shipyard.TokenBlacklist'),
  Encryptor: Symbol.for('shipyard.Encryptor'),
  JobQueue: Symbol.for('shipyard.JobQueue'),
  BuildRunner: Symbol.for('shipyard.BuildRunner'),
  DeploymentRuntime: Symbol.for('shipyard.DeploymentRuntime'),
  LogStore: Symbol.for('shipyard.LogStore'),
  OAuthProvider: Symbol.for('shipyard.OAuthProvider'),
  Logger: Symbol.for('shipyard.Logger'),
  Mailer: Symbol.for('shipyard.Mailer'),
  SecretGenerator: Symbol.for('shipyard.SecretGenerator'),
  CoreSettings: Symbol.for('shipyard.CoreSettings'),
  CoreDeps: Symbol.for('shipyard.CoreDeps'),
  UseCases: Symbol.for('shipyard.UseCases'),
  JobHandlers: Symbol.for('shipyard.JobHandlers'),
} as const;

/**
 * The token each port of `CoreDeps` is bound to (the sign-in providers are a map, given apart).
 * A container builds `CoreDeps` from it by name; a port added to `CoreDeps` without a token
 * here does not compile.
 */
export const CORE_DEPS_TOKENS: { readonly [K in Exclude<keyof CoreDeps, 'oauthProviders'>]: symbol } = {
  uow: TOKENS.UnitOfWork,
  clock: TOKENS.Clock,
  ids: TOKENS.IdGenerator,
  passwords: TOKENS.PasswordHasher,
  commonPasswords: TOKENS.CommonPasswords,
  tokens: TOKENS.TokenIssuer,
  blacklist: TOKENS.TokenBlacklist,
  encryptor: TOKENS.Encryptor,
  jobs: TOKENS.JobQueue,
  buildRunner: TOKENS.BuildRunner,
  runtime: TOKENS.DeploymentRuntime,
  logStore: TOKENS.LogStore,
  logger: TOKENS.Logger,
  mailer: TOKENS.Mailer,
  secrets: TOKENS.SecretGenerator,
  settings: TOKENS.CoreSettings,
};
