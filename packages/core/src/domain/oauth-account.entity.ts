import { Entity, type NewEntity } from './entity.js';
import { oneOf, text } from './validate.js';

export const OAUTH_PROVIDERS = ['github'] as const;
export type OAuthProviderName = (typeof OAUTH_PROVIDERS)[number];

export class OAuthAccount extends Entity {
  userId!: string;
  provider!: OAuthProviderName;
  /** The provider's stable id of the account (GitHub's numeric user id, as a string). */
  providerAccountId!: string;
  login!: string;
  /** The provider's access token, encrypted by the `Encryptor` port. */
  accessToken!: string;
  scopes!: string[];

  static create(
    ctx: NewEntity,
    input: {
      userId: string;
      provider: OAuthProviderName;
      providerAccountId: string;
      login: string;
      accessToken: string;
      scopes: string[];
    },
  ): OAuthAccount {
    const account = new OAuthAccount();
    account.init(ctx);
    account.userId = input.userId;
    account.provider = oneOf('provider', input.provider, OAUTH_PROVIDERS);
    account.providerAccountId = text('providerAccountId', input.providerAccountId, { max: 100 });
    account.login = text('login', input.login, { max: 100 });
    account.accessToken = input.accessToken;
    account.scopes = [...input.scopes];
    return account;
  }

  refresh(input: { login: string; accessToken: string; scopes: string[] }, now: Date): void {
    this.login = text('login', input.login, { max: 100 });
    this.accessToken = input.accessToken;
    this.scopes = [...input.scopes];
    this.touch(now);
  }
}
