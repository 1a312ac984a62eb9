import {
  AesGcmEncryptor,
  CORE_DEPS_TOKENS,
  type CoreDeps,
  type CoreSettings,
  CryptoSecretGenerator,
  createUseCases,
  DEFAULT_SETTINGS,
  JobHandlers,
  type Logger,
  RandomIdGenerator,
  SystemClock,
  TOKENS,
  type UseCases,
} from '@shipyard/core';
import { ContainerModule } from 'inversify';
import type { AppRuntime } from './app-runtime.js';
import type { Config } from './config.js';

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
    bind(TOKENS.Clock).toConstantValue(new SystemClock());
    bind(TOKENS.IdGenerator).toConstantValue(new RandomIdGenerator());
    bind(TOKENS.Logger).toConstantValue(logger);
    bind(TOKENS.CoreSettings).toConstantValue({ ...DEFAULT_SETTINGS, ...extra.settings });
    bind(TOKENS.Encryptor).toConstantValue(new AesGcmEncryptor(config.encryptionKeys));
    bind(TOKENS.SecretGenerator).toConstantValue(new CryptoSecretGenerator());
    bind(TOKENS.BuildRunner).toConstantValue(extra.runtime.buildRunner);
    bind(TOKENS.DeploymentRuntime).toConstantValue(extra.runtime.deploymentRuntime);
    bind(TOKENS.CoreDeps)
      .toDynamicValue((context): CoreDeps => {
        const ports = Object.fromEntries(
          Object.entries(CORE_DEPS_TOKENS).map(([name, token]) => [name, context.get(token)]),
        ) as Omit<CoreDeps, 'oauthProviders'>;
        return { ...ports, oauthProviders: extra.oauthProviders ?? {} };
      })
      .inSingletonScope();
    bind(TOKENS.UseCases)
      .toResolvedValue((deps: CoreDeps) => createUseCases(deps), [TOKENS.CoreDeps])
      .inSingletonScope();
    bind(TOKENS.JobHandlers)
      .toResolvedValue((useCases: UseCases) => new JobHandlers(useCases), [TOKENS.UseCases])
      .inSingletonScope();
  });
