import {
  AuthenticationError,
  BadGatewayError,
  type OAuthIdentity,
  type OAuthProvider,
  type OAuthTokens,
  withTimeout,
} from '@shipyard/core';
import { CodeChallengeMethod, OAuth2Client, OAuth2RequestError } from 'arctic';

export interface GitHubOAuthOptions {
  clientId: string;
  clientSecret: string;
  /** `https://github.com`, a GitHub Enterprise host, or a fake GitHub in tests. */
  oauthUrl: string;
  /** `https://api.github.com`, or `https://<host>/api/v3` for GitHub Enterprise. */
  apiUrl: string;
  /** How long GitHub may take to answer one request. */
  timeoutMs?: number;
}

export const GITHUB_SCOPES = ['read:user', 'user:email'];

interface GitHubUser {
  id: number;
  login: string;
  name: string | null;
}

interface GitHubEmail {
  email: string;
  primary: boolean;
  verified: boolean;
}

/**
 * GitHub (or GitHub Enterprise) as an `OAuthProvider`: authorization code with PKCE S256 through
 * arctic's `OAuth2Client` on configurable endpoints, then the user and their verified primary
 * email from the REST API. A refused code is an `AuthenticationError`; GitHub down, slow or
 * answering nonsense is a `BadGatewayError`.
 */
export class GitHubOAuthProvider implements OAuthProvider {
  private readonly timeoutMs: number;
  private readonly oauthUrl: string;
  private readonly apiUrl: string;

  constructor(private readonly options: GitHubOAuthOptions) {
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.oauthUrl = options.oauthUrl.replace(/\/+$/, '');
    this.apiUrl = options.apiUrl.replace(/\/+$/, '');
  }

  private client(redirectUri: string): OAuth2Client {
    return new OAuth2Client(this.options.clientId, this.options.clientSecret, redirectUri);
  }

  authorizationUrl(input: { state: string; codeVerifier: string; redirectUri: string }): URL {
    return this.client(input.redirectUri).createAuthorizationURLWithPKCE(
      `${this.oauthUrl}/login/oauth/authorize`,
      input.state,
      CodeChallengeMethod.S256,
      input.codeVerifier,
      GITHUB_SCOPES,
    );
  }

  async exchangeCode(input: { code: string; codeVerifier: string; redirectUri: string }): Promise<OAuthTokens> {
    try {
      const tokens = await withTimeout(
        this.client(input.redirectUri).validateAuthorizationCode(
          `${this.oauthUrl}/login/oauth/access_token`,
          input.code,
          input.codeVerifier,
        ),
        this.timeoutMs,
        (ms) => new BadGatewayError(`GitHub did not answer in ${ms} ms`),
      );
      // GitHub answers a refused code with 200 and an error body.
      const refusal = (tokens.data as { error?: unknown }).error;
      if (typeof refusal === 'string') throw new AuthenticationError('GitHub refused the authorization code');
      // GitHub lists granted scopes comma-separated.
      const granted = (tokens.data as { scope?: unknown }).scope;
      const scopes = typeof granted === 'string' ? granted.split(/[\s,]+/).filter(Boolean) : [];
      return { accessToken: tokens.accessToken(), scopes };
    } catch (error) {
      if (error instanceof BadGatewayError || error instanceof AuthenticationError) throw error;
      if (error instanceof OAuth2RequestError) {
        throw new AuthenticationError('GitHub refused the authorization code');
      }
      throw new BadGatewayError('GitHub could not exchange the authorization code', { cause: error });
    }
  }

  private async api<T>(path: string, accessToken: string): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.apiUrl}${path}`, {
        headers: {
          Accept: 'application/vnd.github+json',
          Authorization: `Bearer ${accessToken}`,
          'User-Agent': 'shipyard',
          'X-GitHub-Api-Version': '2022-11-28',
        },
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new BadGatewayError(`GitHub did not answer ${path}`, { cause: error });
    }
    if (response.status === 401) throw new AuthenticationError('GitHub rejected the access token');
    if (!response.ok) throw new BadGatewayError(`GitHub answered ${response.status} to ${path}`);
    try {
      return (await response.json()) as T;
    } catch (error) {
      throw new BadGatewayError(`GitHub sent an unreadable answer to ${path}`, { cause: error });
    }
  }

  async fetchIdentity(accessToken: string): Promise<OAuthIdentity> {
    const [user, emails] = await Promise.all([
      this.api<GitHubUser>('/user', accessToken),
      this.api<GitHubEmail[]>('/user/emails', accessToken),
    ]);
    if (typeof user?.id !== 'number' || typeof user.login !== 'string' || !Array.isArray(emails)) {
      throw new BadGatewayError('GitHub sent an unexpected user');
    }
    const primary = emails.find((e) => e.primary && e.verified && typeof e.email === 'string');
    return {
      providerAccountId: String(user.id),
      login: user.login,
      name: typeof user.name === 'string' && user.name.trim() !== '' ? user.name : null,
      email: primary?.email ?? null,
    };
  }
}
