import { AuthenticationError } from '../domain/app.errors.js';
import type { OAuthIdentity, OAuthProvider, OAuthTokens } from '../ports/oauth-provider.port.js';

/** An OAuth provider in memory: `grant` registers a code the next exchange accepts (once). */
export class FakeOAuthProvider implements OAuthProvider {
  private readonly codes = new Map<string, { verifier: string | null; tokens: OAuthTokens; identity: OAuthIdentity }>();
  private readonly identities = new Map<string, OAuthIdentity>();

  constructor(readonly authorizeUrl = 'https://oauth.example.test/authorize') {}

  grant(code: string, identity: OAuthIdentity, options: { codeVerifier?: string; scopes?: string[] } = {}): void {
    this.codes.set(code, {
      verifier: options.codeVerifier ?? null,
      identity,
      tokens: { accessToken: `token-${code}`, scopes: options.scopes ?? ['read:user', 'user:email'] },
    });
  }

  authorizationUrl(input: { state: string; codeVerifier: string; redirectUri: string }): URL {
    const url = new URL(this.authorizeUrl);
    url.searchParams.set('state', input.state);
    url.searchParams.set('redirect_uri', input.redirectUri);
    return url;
  }

  async exchangeCode(input: { code: string; codeVerifier: string }): Promise<OAuthTokens> {
    const granted = this.codes.get(input.code);
    this.codes.delete(input.code);
    if (granted === undefined || (granted.verifier !== null && granted.verifier !== input.codeVerifier)) {
      throw new AuthenticationError('The authorization code is invalid');
    }
    this.identities.set(granted.tokens.accessToken, granted.identity);
    return granted.tokens;
  }

  async fetchIdentity(accessToken: string): Promise<OAuthIdentity> {
    const identity = this.identities.get(accessToken);
    if (identity === undefined) throw new AuthenticationError('The provider token is invalid');
    return identity;
  }
}
