import type { AuthSession } from '@shipyard/core';
import type { Context } from 'koa';
import type { CsrfTokens } from './csrf.js';
import type { DeviceCookies } from './device-cookie.js';

export const ACCESS_COOKIE = 'access_token';
export const REFRESH_COOKIE = 'refresh_token';
export const CSRF_COOKIE = 'csrf_token';
export const CSRF_HEADER = 'x-csrf-token';
export const DEVICE_COOKIE = 'device_token';
/** The refresh cookie travels only to the auth routes. */
const REFRESH_PATH = '/api/v1/auth';

export interface CookiePolicy {
  /** `Secure` cookies: on everywhere but development over plain http. */
  secure: boolean;
  /** Derives the CSRF token of a session. */
  csrf: CsrfTokens;
  /** Signs and checks the cookie of a device that signed in before. */
  devices: DeviceCookies;
}

/**
 * The `Secure` flag follows the configuration (`PUBLIC_URL`, production), not the socket: the
 * server speaks plain http behind a TLS proxy, and the cookies library refuses a `Secure`
 * cookie on a connection it does not see as encrypted.
 */
function allowSecure(ctx: Context, policy: CookiePolicy): void {
  if (policy.secure) ctx.cookies.secure = true;
}

/**
 * Sets the session cookies: the access and refresh tokens httpOnly and `SameSite=Lax`, and the
 * session's CSRF token (an HMAC of the session id) readable by the page, which it echoes in the
 * `x-csrf-token` header.
 */
export function setSessionCookies(ctx: Context, session: AuthSession, policy: CookiePolicy): void {
  allowSecure(ctx, policy);
  const common = { httpOnly: true, sameSite: 'lax' as const, secure: policy.secure, overwrite: true };
  ctx.cookies.set(ACCESS_COOKIE, session.accessToken, {
    ...common,
    path: '/',
    expires: session.accessTokenExpiresAt,
  });
  ctx.cookies.set(REFRESH_COOKIE, session.refreshToken, {
    ...common,
    path: REFRESH_PATH,
    expires: session.refreshTokenExpiresAt,
  });
  ctx.cookies.set(CSRF_COOKIE, policy.csrf.tokenFor(session.sessionId), {
    ...common,
    httpOnly: false,
    path: '/',
    expires: session.refreshTokenExpiresAt,
  });
}

export function clearSessionCookies(ctx: Context, policy: CookiePolicy): void {
  allowSecure(ctx, policy);
  const common = { sameSite: 'lax' as const, secure: policy.secure, overwrite: true, expires: new Date(0) };
  ctx.cookies.set(ACCESS_COOKIE, '', { ...common, httpOnly: true, path: '/' });
  ctx.cookies.set(REFRESH_COOKIE, '', { ...common, httpOnly: true, path: REFRESH_PATH });
  ctx.cookies.set(CSRF_COOKIE, '', { ...common, httpOnly: false, path: '/' });
}

/**
 * After a sign-in (password, registration, GitHub): the session cookies, and the cookie that
 * marks this browser as a device that signed in to the account (httpOnly, sent to the auth
 * routes only). Its later failed sign-ins count against the device instead of the email.
 */
export function setSignInCookies(ctx: Context, session: AuthSession, policy: CookiePolicy): void {
  setSessionCookies(ctx, session, policy);
  const cookie = policy.devices.issue(session.user.email);
  ctx.cookies.set(DEVICE_COOKIE, cookie.value, {
    httpOnly: true,
    sameSite: 'lax',
    secure: policy.secure,
    overwrite: true,
    path: REFRESH_PATH,
    expires: cookie.expires,
  });
}

/** The id of the device when the request carries a valid device cookie for `email`. */
export const knownDevice = (ctx: Context, email: string, policy: CookiePolicy): string | null =>
  policy.devices.deviceOf(ctx.cookies.get(DEVICE_COOKIE), email);
