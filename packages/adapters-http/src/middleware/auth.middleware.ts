import { type Authenticated, AuthenticationError, AuthorizationError, type UseCases } from '@shipyard/core';
import type { Context } from 'koa';
import { ACCESS_COOKIE, CSRF_HEADER } from '../auth/cookies.js';
import type { CsrfTokens } from '../auth/csrf.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * A state-changing request authenticated by cookie must prove it comes from our own pages:
 * - the `x-csrf-token` header is the CSRF token of the session the access token belongs to (an
 *   HMAC of the session id: a cookie set by a sibling subdomain or kept from another session
 *   does not pass);
 * - the browser says the request is `same-origin` (`Sec-Fetch-Site`); any other value
 *   (`same-site`, `cross-site`, `none`) passes only with an `Origin` on the allow list
 *   (`PUBLIC_URL`, `FRONTEND_URL`, `CORS_ORIGINS`). A client that sends no `Sec-Fetch-Site` (an
 *   old browser) is judged by `Origin` alone when it sends one.
 */
function assertSameOrigin(
  ctx: Context,
  auth: Authenticated,
  allowedOrigins: ReadonlySet<string>,
  csrf: CsrfTokens,
): void {
  const header = ctx.get(CSRF_HEADER);
  if (header === '' || !csrf.matches(auth.token.sessionId, header)) {
    throw new AuthorizationError('Missing or invalid CSRF token');
  }
  const site = ctx.get('sec-fetch-site');
  const origin = ctx.get('origin');
  if (site === 'same-origin') return;
  if (site === '' && origin === '') return;
  if (origin === '' || !allowedOrigins.has(origin)) {
    throw new AuthorizationError('Cross-site request refused');
  }
}

/**
 * Authenticates a request from `Authorization: Bearer` or the access-token cookie, through the
 * core's `Authenticate` use case (token checks, the blacklist and the session epoch; fail closed).
 */
export async function authenticate(
  ctx: Context,
  useCases: Pick<UseCases, 'authenticate'>,
  allowedOrigins: ReadonlySet<string>,
  csrf: CsrfTokens,
): Promise<Authenticated> {
  const header = ctx.get('authorization');
  let token: string | undefined;
  let fromCookie = false;
  if (header !== '') {
    const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(header);
    if (match === null) throw new AuthenticationError('Malformed Authorization header');
    token = match[1];
  } else {
    token = ctx.cookies.get(ACCESS_COOKIE) || undefined;
    fromCookie = token !== undefined;
  }
  if (token === undefined) throw new AuthenticationError('Authentication required');
  const auth = await useCases.authenticate.execute(token);
  if (fromCookie && !SAFE_METHODS.has(ctx.method)) assertSameOrigin(ctx, auth, allowedOrigins, csrf);
  ctx.state.auth = auth;
  return auth;
}
