import {
  AesGcmEncryptor,
  type CoreDeps,
  type CoreSettings,
  CryptoSecretGenerator,
  createUseCases,
  DEFAULT_SETTINGS,
  JobHandlers,
  type Logger,
  RandomIdGenerator,
  SystemClock,
} from '@shipyard/core';
import { ContainerModule } from 'inversify';
import type { AppRuntime } from './app-runtime.js';
import type { Config } from './config.js';
import { BOUND, bindFactory, bindValue, CORE_PORTS } from './typed-tokens.js';

/**
 * The core's own bindings: system clock and ids, the AES-GCM encryptor, the build runner and
 * runtime chosen by `RUNTIME`, the settings, and the use cases built from whatever the adapter
 * modules bound to the ports.
 */
export const coreModule = (
  config: Config,
  logger: Logger,
  extra: {
    runtime: Pick<AppRuntime, 'buildRunner' | 'deploymentRuntime'>;
    settings?: Partial<CoreSettings>;
    oauthProviders?: CoreDeps['oauthProviders'];
  },
) =>
  new ContainerModule(({ bind }) => {
    bindValue(bind, BOUND.Clock, new SystemClock());
    bindValue(bind, BOUND.IdGenerator, new RandomIdGenerator());
    bindValue(bind, BOUND.Logger, logger);
    bindValue(bind, BOUND.CoreSettings, { ...DEFAULT_SETTINGS, ...extra.settings });
    bindValue(bind, BOUND.Encryptor, new AesGcmEncryptor(config.encryptionKeys));
    bindValue(bind, BOUND.SecretGenerator, new CryptoSecretGenerator());
    bindValue(bind, BOUND.BuildRunner, extra.runtime.buildRunner);
    bindValue(bind, BOUND.DeploymentRuntime, extra.runtime.deploymentRuntime);
    bindFactory(bind, BOUND.CoreDeps, CORE_PORTS, (ports) => ({
      ...ports,
      oauthProviders: extra.oauthProviders ?? {},
    }));
    bindFactory(bind, BOUND.UseCases, { deps: BOUND.CoreDeps }, ({ deps }) => createUseCases(deps));
    bindFactory(bind, BOUND.JobHandlers, { useCases: BOUND.UseCases }, ({ useCases }) => new JobHandlers(useCases));
  });
