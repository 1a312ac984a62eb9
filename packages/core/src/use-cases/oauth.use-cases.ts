import { AuthenticationError, AuthorizationError, ConflictError, NotFoundError } from '../domain/app.errors.js';
import { OAuthAccount, type OAuthProviderName } from '../domain/oauth-account.entity.js';
import type { Principal } from '../domain/role.js';
import { slugify, Tenant } from '../domain/tenant.entity.js';
import { User } from '../domain/user.entity.js';
import type { OAuthIdentity, OAuthProvider, OAuthTokens } from '../ports/oauth-provider.port.js';
import type { PlatformRepositories, Repositories } from '../ports/repository.port.js';
import { parseListQuery } from '../query/list-query.js';
import { type RequestOrigin, recordAudit } from './audit.use-cases.js';
import type { CoreDeps } from './core-deps.js';
import { retryOnConflict } from './retry.js';
import { type AuthSession, signIn } from './session.js';
import { stamp } from './stamp.js';

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
 * email when that user verified their address (409 when not); or creates a tenant with a new
 * owner. All database writes are one transaction: a failure leaves nothing half-created.
 */
export class CompleteOAuthSignIn {
  constructor(
    private readonly deps: Pick<
      CoreDeps,
      'uow' | 'clock' | 'ids' | 'tokens' | 'encryptor' | 'oauthProviders' | 'logger' | 'settings'
    >,
  ) {}

  /** Whether sign-in with this provider is configured. */
  isEnabled(provider: OAuthProviderName): boolean {
    return this.deps.oauthProviders[provider] !== undefined;
  }

  async execute(
    providerName: OAuthProviderName,
    input: { code: string; codeVerifier: string; redirectUri: string },
    origin: RequestOrigin = {},
  ): Promise<AuthSession & { outcome: OAuthOutcome }> {
    const provider = providerOf(this.deps, providerName);
    const tokens = await provider.exchangeCode(input);
    const identity = await provider.fetchIdentity(tokens.accessToken);
    const result = await retryOnConflict(() =>
      this.deps.uow.platform((platform) => this.signIn(platform, providerName, identity, tokens, origin)),
    );
    this.deps.logger.info(
      { provider: providerName, outcome: result.outcome, user_id: result.user.id, tenant_id: result.user.tenantId },
      'oauth sign-in',
    );
    return result;
  }

  /**
   * Platform-wide: the account and the email are looked up across tenants, then everything else
   * happens in the tenant of the user found (or created), in the same transaction.
   */
  private async signIn(
    platform: PlatformRepositories,
    provider: OAuthProviderName,
    identity: OAuthIdentity,
    tokens: OAuthTokens,
    origin: RequestOrigin,
  ): Promise<AuthSession & { outcome: OAuthOutcome }> {
    const now = this.deps.clock.now();
    const linked = await platform.findOAuthAccount(provider, identity.providerAccountId);
    let user: User;
    let outcome: OAuthOutcome;
    let repos: Repositories;
    if (linked !== null) {
      repos = platform.inTenant(linked.tenantId);
      user = await repos.users.get(linked.account.userId);
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
      await repos.oauthAccounts.update(account);
      outcome = 'signed_in';
    } else {
      if (identity.email === null) {
        throw new AuthorizationError(`Your ${provider} account has no verified primary email`);
      }
      const existing = await platform.findUserByEmail(identity.email);
      if (existing !== null) {
        this.assertActive(existing);
        // Linking on an unproven address would hand a pre-made account (whose password its
        // maker knows) to the provider's user: only a verified address links by itself.
        if (existing.emailVerifiedAt === null) {
          throw new ConflictError(
            `An account with this email exists but its address is not verified. Sign in with its password, verify the address, then sign in with ${provider} again to link it.`,
            { reason: 'email_not_verified' },
          );
        }
        user = existing;
        repos = platform.inTenant(existing.tenantId);
        outcome = 'linked';
      } else {
        const name = identity.name ?? identity.login;
        let slug = slugify(identity.login);
        while (await platform.tenantSlugExists(slug))
          slug = `${slugify(identity.login).slice(0, 50)}-${this.deps.ids.next().slice(-8)}`;
        const tenant = Tenant.create(stamp(this.deps), { name: `${name}`.slice(0, 100), slug });
        repos = platform.inTenant(tenant.id);
        await repos.tenants.add(tenant);
        user = User.create(stamp(this.deps), {
          tenantId: tenant.id,
          email: identity.email,
          role: 'owner',
          fullName: identity.name,
          // The provider says this is the account's verified primary email.
          emailVerifiedAt: now,
        });
        await repos.users.add(user);
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
      await repos.oauthAccounts.add(account);
    }
    user.recordLogin(now);
    await repos.users.update(user);
    // In the tenant of the user found or created (`inTenant`), in the sign-in's transaction.
    const session = await signIn(
      this.deps,
      repos,
      user,
      origin.ip ?? null,
      outcome === 'registered'
        ? { action: 'auth.register', target: { type: 'tenant', id: user.tenantId }, summary: { method: provider } }
        : {
            action: outcome === 'linked' ? 'auth.oauth_link' : 'auth.login',
            target: { type: 'user', id: user.id },
            summary: { method: provider },
          },
    );
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
    const page = await this.deps.uow.run(actor.tenantId, (repos) =>
      repos.oauthAccounts.list(
        parseListQuery('oauthAccount', { filters: { userId: actor.userId }, sortOrder: 'asc', limit: 100 }),
      ),
    );
    return page.items;
  }
}

/** Unlinks one of the user's own accounts, unless it is their last way to sign in. */
export class UnlinkOAuthAccount {
  constructor(private readonly deps: Pick<CoreDeps, 'uow' | 'clock' | 'ids'>) {}

  async execute(actor: Principal, accountId: string): Promise<void> {
    await this.deps.uow.run(actor.tenantId, async (repos) => {
      const account = await repos.oauthAccounts.find(accountId);
      if (account === null || account.userId !== actor.userId) throw new NotFoundError('OAuth account');
      const user = await repos.users.get(actor.userId);
      const accounts = await repos.oauthAccounts.count({ userId: [actor.userId] });
      if (user.passwordHash === null && accounts <= 1) {
        throw new ConflictError('This is your only way to sign in; set a password or link another account first');
      }
      await repos.oauthAccounts.remove(account.id);
      await recordAudit(this.deps, repos, actor, {
        action: 'auth.oauth_unlink',
        target: { type: 'oauth_account', id: account.id },
        summary: { provider: account.provider },
      });
    });
  }
}
