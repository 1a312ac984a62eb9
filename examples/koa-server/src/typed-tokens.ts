import { type AccountRateLimits, type AuthRateLimits, HTTP_TOKENS } from '@shipyard/adapters-http';
import { type ClosableJobQueue, QUEUE_TOKENS } from '@shipyard/adapters-queue';
import {
  type BuildRunner,
  type Clock,
  CORE_DEPS_TOKENS,
  type CoreDeps,
  type CoreSettings,
  type DeploymentRuntime,
  type Encryptor,
  type IdGenerator,
  type JobHandlers,
  type Logger,
  type SecretGenerator,
  TOKENS,
  type TokenBlacklist,
  type UseCases,
} from '@shipyard/core';
import type { Bind, ResolutionContext } from 'inversify';

declare const bound: unique symbol;

/**
 * An injection token that carries the type of what is bound to it. Binding and reading through
 * `bindValue`, `bindFactory` and `resolve` is checked by the compiler: a value of the wrong type,
 * or a factory given a dependency of the wrong type or name, does not compile.
 */
export type Token<T> = symbol & { readonly [bound]?: T };

/** The token of each field of `D`, by name. */
export type TokensOf<D> = { readonly [K in keyof D]: Token<D[K]> };

/**
 * Gives each symbol of a map the type of its field of `D` (the compiler checks that the names
 * match). This is where a token's type is declared: the adapters' modules bind untyped symbols.
 */
const tokensOf = <D>(symbols: { readonly [K in keyof D]: symbol }): TokensOf<D> => symbols;

/** The ports the core's use cases are built from: `CoreDeps` but the sign-in providers (given apart). */
export type CorePorts = Omit<CoreDeps, 'oauthProviders'>;

/** `CORE_DEPS_TOKENS`, each with the type of its port. */
export const CORE_PORTS: TokensOf<CorePorts> = tokensOf<CorePorts>(CORE_DEPS_TOKENS);

/** What the composition binds or reads itself, by token name. */
export interface Bound {
  Clock: Clock;
  IdGenerator: IdGenerator;
  Logger: Logger;
  CoreSettings: CoreSettings;
  Encryptor: Encryptor;
  SecretGenerator: SecretGenerator;
  BuildRunner: BuildRunner;
  DeploymentRuntime: DeploymentRuntime;
  TokenBlacklist: TokenBlacklist;
  CoreDeps: CoreDeps;
  UseCases: UseCases;
  JobHandlers: JobHandlers;
  ClosableJobQueue: ClosableJobQueue;
  AuthRateLimits: AuthRateLimits;
  AccountRateLimits: AccountRateLimits;
}

/** The tokens of `Bound`. */
export const BOUND: TokensOf<Bound> = tokensOf<Bound>({
  Clock: TOKENS.Clock,
  IdGenerator: TOKENS.IdGenerator,
  Logger: TOKENS.Logger,
  CoreSettings: TOKENS.CoreSettings,
  Encryptor: TOKENS.Encryptor,
  SecretGenerator: TOKENS.SecretGenerator,
  BuildRunner: TOKENS.BuildRunner,
  DeploymentRuntime: TOKENS.DeploymentRuntime,
  TokenBlacklist: TOKENS.TokenBlacklist,
  CoreDeps: TOKENS.CoreDeps,
  UseCases: TOKENS.UseCases,
  JobHandlers: TOKENS.JobHandlers,
  ClosableJobQueue: QUEUE_TOKENS.ClosableJobQueue,
  AuthRateLimits: HTTP_TOKENS.AuthRateLimits,
  AccountRateLimits: HTTP_TOKENS.AccountRateLimits,
});

/** Binds `token` to `value`. */
export function bindValue<T>(bind: Bind, token: Token<T>, value: T): void {
  bind<T>(token).toConstantValue(value);
}

/**
 * Binds `token` to what `build` makes of its dependencies, given by name (`{ deps: BOUND.CoreDeps }`),
 * once: a singleton.
 */
export function bindFactory<T, D>(bind: Bind, token: Token<T>, deps: TokensOf<D>, build: (deps: D) => T): void {
  bind<T>(token)
    .toDynamicValue((context) => build(resolveAll(context, deps)))
    .inSingletonScope();
}

/** What is bound to `token` (in a container, or while resolving another binding). */
export function resolve<T>(from: Pick<ResolutionContext, 'get'>, token: Token<T>): T {
  return from.get<T>(token);
}

/** What is bound to each token of `tokens`, by the same names. */
export function resolveAll<D>(from: Pick<ResolutionContext, 'get'>, tokens: TokensOf<D>): D {
  const entries = Object.entries<Token<unknown>>(tokens).map(([name, token]) => [name, from.get(token)]);
  // Each value came from the token of its name, whose type is that field's.
  return Object.fromEntries(entries) as D;
}
