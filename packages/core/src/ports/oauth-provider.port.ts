export interface OAuthIdentity {
  providerAccountId: string;
  login: string;
  name: string | null;
  /** The verified primary email, or null when the account has none. */
  email: string | null;
}

export interface OAuthTokens {
  accessToken: string;
  scopes: string[];
}

/** An OAuth 2 authorization-code provider with PKCE (GitHub, GitHub Enterprise, a test fake). */
export interface OAuthProvider {
  authorizationUrl(input: { state: string; codeVerifier: string; redirectUri: string }): URL;
  exchangeCode(input: { code: string; codeVerifier: string; redirectUri: string }): Promise<OAuthTokens>;
  fetchIdentity(accessToken: string): Promise<OAuthIdentity>;
}
