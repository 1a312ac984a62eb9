import { AuthenticationError, AuthorizationError, ConflictError, NotFoundError } from '../domain/app.errors.js';
import { OAuthAccount, type OAuthProviderName } from '../domain/oauth-account.entity.js';
import type { Principal } from '../domain/role.js';
import { slugify, Tenant } from '../domain/tenant.entity.js';
import { User } from '../domain/user.entity.js';
import type { OAuthIdentity, OAuthProvider, OAuthTokens } from '../ports/oauth-provider.port.js';
import type { Repositories } from '../ports/repository.port.js';
import { parseListQuery } from '../query/list-query.js';
import { type CoreDeps, stamp } from './core-deps.js';
import { retryOnConflict } from './retry.js';
import { type AuthSession, openSession } from './session.js';

/** The associated data an OAuth access token is encrypted under. */
export const oauthTokenContext = (tenantId: string, accountId: string): string =>
  `oauth-token:${tenantId}:${accountId}`;

function providerOf(deps: Pick<CoreDeps, 'oauthProviders'>, name: OAuthProviderName): OAuthProvider {
  const provider = deps.oauthProviders[name];
  if (provider === undefined) throw new NotFoundError(`Sign-in with ${name}`);
  return provider;
}

/** Where to send the browser to sign in with a provider (404 when that provider is not configured). */
export class BeginOAuthSignIn {
  constructor(private readonly deps: Pick<CoreDeps, 'oauthProviders'>) {}

  async execute(
    provider: OAuthProviderName,
    input: { state: string; codeVerifier: string; redirectUri: string },
  ): Promise<URL> {
    return providerOf(this.deps, provider).authorizationUrl(input);
  }
}

export type OAuthOutcome = 'signed_in' | 'linked' | 'registered';

/**
 * Finishes an OAuth sign-in: exchanges the code (with the PKCE verifier), reads the identity,
 * then signs in the user linked to that account; or links the account to the user with the same
 * verified email; or creates a tenant with a new owner. All database writes are one
 * transaction: a failure leaves nothing half-created.
 */
export class CompleteOAuthSignIn {
  constructor(
    private readonly deps: Pick<
      CoreDeps,
      'uow' | 'clock' | 'ids' | 'tokens' | 'encryptor' | 'oauthProviders' | 'logger'
    >,
  ) {}

  /** Whether sign-in with this provider is configured. */
  isEnabled(provider: OAuthProviderName): boolean {
    return this.deps.oauthProviders[provider] !== undefined;
  }

  async execute(
    providerName: OAuthProviderName,
    input: { code: string; codeVerifier: string; redirectUri: string },
  ): Promise<AuthSession & { outcome: OAuthOutcome }> {
    const provider = providerOf(this.deps, providerName);
    const tokens = await provider.exchangeCode(input);
    const identity = await provider.fetchIdentity(tokens.accessToken);
    const result = await retryOnConflict(() =>
      this.deps.uow.run((repos) => this.signIn(repos, providerName, identity, tokens)),
    );
    this.deps.logger.info(
      { provider: providerName, outcome: result.outcome, user_id: result.user.id, tenant_id: result.user.tenantId },
      'oauth sign-in',
    );
    return result;
  }

  private async signIn(
    repos: Repositories,
    provider: OAuthProviderName,
    identity: OAuthIdentity,
    tokens: OAuthTokens,
  ): Promise<AuthSession & { outcome: OAuthOutcome }> {
    const now = this.deps.clock.now();
    const linked = await repos.oauthAccounts.findByProviderAccount(provider, identity.providerAccountId);
    let user: User;
    let outcome: OAuthOutcome;
    if (linked !== null) {
      user = await repos.users.get(linked.tenantId, linked.account.userId);
      this.assertActive(user);
      const account = linked.account;
      account.refresh(
        {
          login: identity.login,
          accessToken: await this.deps.encryptor.encrypt(
            tokens.accessToken,
            oauthTokenContext(user.tenantId, account.id),
          ),
          scopes: tokens.scopes,
        },
        now,
      );
      await repos.oauthAccounts.update(user.tenantId, account);
      outcome = 'signed_in';
    } else {
      if (identity.email === null) {
        throw new AuthorizationError(`Your ${provider} account has no verified primary email`);
      }
      const existing = await repos.users.findByEmail(identity.email);
      if (existing !== null) {
        this.assertActive(existing);
        user = existing;
        outcome = 'linked';
      } else {
        const name = identity.name ?? identity.login;
        let slug = slugify(identity.login);
        while (await repos.tenants.slugExists(slug))
          slug = `${slugify(identity.login).slice(0, 50)}-${this.deps.ids.next().slice(-8)}`;
        const tenant = Tenant.create(stamp(this.deps), { name: `${name}`.slice(0, 100), slug });
        await repos.tenants.add(tenant.id, tenant);
        user = User.create(stamp(this.deps), {
          tenantId: tenant.id,
          email: identity.email,
          role: 'owner',
          fullName: identity.name,
        });
        await repos.users.add(tenant.id, user);
        outcome = 'registered';
      }
      const id = this.deps.ids.next();
      const account = OAuthAccount.create(
        { id, now },
        {
          userId: user.id,
          provider,
          providerAccountId: identity.providerAccountId,
          login: identity.login,
          accessToken: await this.deps.encryptor.encrypt(tokens.accessToken, oauthTokenContext(user.tenantId, id)),
          scopes: tokens.scopes,
        },
      );
      await repos.oauthAccounts.add(user.tenantId, account);
    }
    user.recordLogin(now);
    await repos.users.update(user.tenantId, user);
    const session = await openSession(this.deps, repos, user, this.deps.ids.next());
    return { ...session, outcome };
  }

  private assertActive(user: User): void {
    if (!user.isActive) throw new AuthenticationError('This account is deactivated');
  }
}

/** The signed-in user's linked accounts (never their tokens). */
export class ListOAuthAccounts {
  constructor(private readonly deps: Pick<CoreDeps, 'uow'>) {}

  async execute(actor: Principal): Promise<OAuthAccount[]> {
    const page = await this.deps.uow.run((repos) =>
      repos.oauthAccounts.list(
        actor.tenantId,
        parseListQuery('oauthAccount', { filters: { userId: actor.userId }, sortOrder: 'asc', limit: 100 }),
      ),
    );
    return page.items;
  }
}

/** Unlinks one of the user's own accounts, unless it is their last way to sign in. */
export class UnlinkOAuthAccount {
  constructor(private readonly deps: Pick<CoreDeps, 'uow'>) {}

  async execute(actor: Principal, accountId: string): Promise<void> {
    await this.deps.uow.run(async (repos) => {
      const account = await repos.oauthAccounts.find(actor.tenantId, accountId);
      if (account === null || account.userId !== actor.userId) throw new NotFoundError('OAuth account');
      const user = await repos.users.get(actor.tenantId, actor.userId);
      const accounts = await repos.oauthAccounts.count(actor.tenantId, { userId: [actor.userId] });
      if (user.passwordHash === null && accounts <= 1) {
        throw new ConflictError('This is your only way to sign in; set a password or link another account first');
      }
      await repos.oauthAccounts.remove(actor.tenantId, account.id);
    });
  }
}
