import { timingSafeEqual } from 'node:crypto';
import { type Authenticated, AuthenticationError, AuthorizationError, type UseCases } from '@shipyard/core';
import type { Context } from 'koa';
import { ACCESS_COOKIE, CSRF_COOKIE, CSRF_HEADER } from '../auth/cookies.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

const equal = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/**
 * A state-changing request authenticated by cookie must prove it comes from our own pages: the
 * CSRF header equals the CSRF cookie (double submit), and the browser does not report a
 * cross-site origin (`Sec-Fetch-Site`, else `Origin` against the allowed origins).
 */
function assertSameSite(ctx: Context, allowedOrigins: ReadonlySet<string>): void {
  const cookie = ctx.cookies.get(CSRF_COOKIE) ?? '';
  const header = ctx.get(CSRF_HEADER);
  if (cookie === '' || header === '' || !equal(cookie, header)) {
    throw new AuthorizationError('Missing or invalid CSRF token');
  }
  const site = ctx.get('sec-fetch-site');
  if (site !== '' && site !== 'same-origin' && site !== 'same-site' && site !== 'none') {
    throw new AuthorizationError('Cross-site request refused');
  }
  const origin = ctx.get('origin');
  if (site === '' && origin !== '' && !allowedOrigins.has(origin)) {
    throw new AuthorizationError('Cross-site request refused');
  }
}

/**
 * Authenticates a request from `Authorization: Bearer` or the access-token cookie, through the
 * core's `Authenticate` use case (token checks and the blacklist; fail closed).
 */
export async function authenticate(
  ctx: Context,
  useCases: Pick<UseCases, 'authenticate'>,
  allowedOrigins: ReadonlySet<string>,
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
  if (fromCookie && !SAFE_METHODS.has(ctx.method)) assertSameSite(ctx, allowedOrigins);
  ctx.state.auth = auth;
  return auth;
}
