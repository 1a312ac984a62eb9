import type { OAuthProviderName } from '../domain/oauth-account.entity.js';
import type { BuildRunner } from '../ports/build-runner.port.js';
import type { Clock } from '../ports/clock.port.js';
import type { CommonPasswords } from '../ports/common-passwords.port.js';
import type { DeploymentRuntime } from '../ports/deployment-runtime.port.js';
import type { Encryptor } from '../ports/encryptor.port.js';
import type { IdGenerator } from '../ports/id-generator.port.js';
import type { JobQueue } from '../ports/job-queue.port.js';
import type { LogStore } from '../ports/log-store.port.js';
import type { Logger } from '../ports/logger.port.js';
import type { Mailer } from '../ports/mailer.port.js';
import type { OAuthProvider } from '../ports/oauth-provider.port.js';
import type { PasswordHasher } from '../ports/password-hasher.port.js';
import type { SecretGenerator } from '../ports/secret-generator.port.js';
import type { TokenBlacklist } from '../ports/token-blacklist.port.js';
import type { TokenIssuer } from '../ports/token-issuer.port.js';
import type { UnitOfWork } from '../ports/unit-of-work.port.js';
import type { CoreSettings } from './core-settings.js';

/** Every port the use cases draw on. Each use case declares the subset it needs. */
export interface CoreDeps {
  uow: UnitOfWork;
  clock: Clock;
  ids: IdGenerator;
  passwords: PasswordHasher;
  /** New passwords on this list are refused. */
  commonPasswords: CommonPasswords;
  tokens: TokenIssuer;
  blacklist: TokenBlacklist;
  encryptor: Encryptor;
  jobs: JobQueue;
  buildRunner: BuildRunner;
  runtime: DeploymentRuntime;
  /** Where build and deployment output is kept for the API to show while it is written. */
  logStore: LogStore;
  logger: Logger;
  /** Verification, password-reset and invitation links go out through it. */
  mailer: Mailer;
  /** The secrets of emailed links, and the digests stored in their place. */
  secrets: SecretGenerator;
  settings: CoreSettings;
  /** Configured sign-in providers; sign-in with one that is absent is `not_found`. */
  oauthProviders: Partial<Record<OAuthProviderName, OAuthProvider>>;
}
