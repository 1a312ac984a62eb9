/**
 * Injection tokens for the ports and the use cases. Plain symbols: any container (Inversify in
 * the adapters' modules) can bind them without the core knowing it.
 */
export const TOKENS = {
  UnitOfWork: Symbol.for('shipyard.UnitOfWork'),
  Clock: Symbol.for('shipyard.Clock'),
  IdGenerator: Symbol.for('shipyard.IdGenerator'),
  PasswordHasher: Symbol.for('shipyard.PasswordHasher'),
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
