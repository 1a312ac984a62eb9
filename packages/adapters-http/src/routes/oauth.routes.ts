import {
  BadRequestError,
  type Clock,
  NotFoundError,
  type OAuthAccount,
  type OAuthProviderName,
  type TokenBlacklist,
} from '@shipyard/core';
import type { Context } from 'koa';
import { setSignInCookies } from '../auth/cookies.js';
import { OAuthStateCookie } from '../auth/oauth-state.js';
import { z } from '../openapi/zod.js';
import { idParams, type RouteDeps } from './route-deps.js';
import { type RouteSpec, route } from './route-spec.js';

export interface OAuthRouteOptions {
  /** Signs the state cookie; at least 32 bytes. */
  stateSecret: Uint8Array;
  /** Remembers used states until they expire (single use). The token blacklist serves. */
  usedStates: TokenBlacklist;
  clock: Clock;
  /** The server's external URL: the redirect URI is built from it, never from the Host header. */
  publicUrl: string;
  /** Where the browser goes after signing in (configuration, never from the request). */
  frontendUrl: string;
}

const STATE_COOKIE = 'oauth_state';

const OAuthAccountWire = z
  .object({
    id: z.string().uuid(),
    provider: z.string(),
    provider_account_id: z.string(),
    login: z.string(),
    scopes: z.array(z.string()),
    created_at: z.string().datetime(),
    updated_at: z.string().datetime(),
  })
  .openapi('OAuthAccount', { description: 'A linked sign-in account; its token is never returned' });

const accountToWire = (a: OAuthAccount) => ({
  id: a.id,
  provider: a.provider,
  provider_account_id: a.providerAccountId,
  login: a.login,
  scopes: a.scopes,
  created_at: a.createdAt.toISOString(),
  updated_at: a.updatedAt.toISOString(),
});

// GitHub may add parameters of its own; only these are read.
const CallbackQuery = z.object({
  code: z.string().max(512).optional(),
  state: z.string().max(512).optional(),
  error: z.string().max(200).optional(),
  error_description: z.string().max(1000).optional(),
});

/**
 * GitHub sign-in: `/auth/github` sends the browser to GitHub with a one-time `state` and a PKCE
 * challenge, both bound to this browser by a signed, httpOnly, short-lived cookie; the callback
 * checks the state (timing-safe, single use), finishes the sign-in through the core and sends the
 * browser to the configured frontend with the session cookies set.
 */
export const oauthRoutes =
  (options: OAuthRouteOptions) =>
  ({ useCases, rateLimits, cookies }: RouteDeps): RouteSpec[] => {
    const states = new OAuthStateCookie(options.stateSecret, options.clock);
    const provider: OAuthProviderName = 'github';
    const redirectUri = `${options.publicUrl}/api/v1/auth/${provider}/callback`;
    const cookiePath = `/api/v1/auth/${provider}`;
    const clearState = (ctx: Context) =>
      ctx.cookies.set(STATE_COOKIE, '', { httpOnly: true, sameSite: 'lax', path: cookiePath, expires: new Date(0) });

    return [
      route({
        method: 'get',
        path: `/auth/${provider}`,
        tag: 'auth',
        summary: 'Sign in with GitHub: redirects to GitHub',
        description: '404 when GitHub sign-in is not configured.',
        auth: false,
        status: 302,
        handler: async ({ ctx }) => {
          await rateLimits.consumeIp(ctx.ip);
          const { value, cookie } = states.create();
          const url = await useCases.beginOAuthSignIn.execute(provider, {
            state: value.state,
            codeVerifier: value.codeVerifier,
            redirectUri,
          });
          if (cookies.secure) ctx.cookies.secure = true;
          ctx.cookies.set(STATE_COOKIE, cookie, {
            httpOnly: true,
            sameSite: 'lax',
            secure: cookies.secure,
            path: cookiePath,
            expires: value.expiresAt,
          });
          ctx.set('Cache-Control', 'no-store');
          ctx.redirect(url.toString());
        },
      }),
      route({
        method: 'get',
        path: `/auth/${provider}/callback`,
        tag: 'auth',
        summary: 'Where GitHub sends the browser back; signs in and redirects to the frontend',
        auth: false,
        query: CallbackQuery,
        status: 302,
        handler: async ({ ctx, query }) => {
          if (!useCases.completeOAuthSignIn.isEnabled(provider)) throw new NotFoundError('Sign-in with github');
          await rateLimits.consumeIp(ctx.ip);
          const stored = states.read(ctx.cookies.get(STATE_COOKIE));
          clearState(ctx);
          if (query.error !== undefined) {
            throw new BadRequestError(
              query.error === 'access_denied'
                ? 'GitHub sign-in was cancelled'
                : `GitHub sign-in failed: ${query.error}`,
              { reason: query.error },
            );
          }
          if (stored === null) throw new BadRequestError('Sign-in expired or was started in another browser');
          if (query.state === undefined || !OAuthStateCookie.matches(stored.state, query.state)) {
            throw new BadRequestError('Sign-in state does not match');
          }
          if (query.code === undefined || query.code === '') throw new BadRequestError('Missing authorization code');
          const stateId = `oauth-state:${stored.state}`;
          if (await options.usedStates.hasAny([stateId]))
            throw new BadRequestError('This sign-in link was already used');
          await options.usedStates.add(stateId, stored.expiresAt);
          const session = await useCases.completeOAuthSignIn.execute(
            provider,
            {
              code: query.code,
              codeVerifier: stored.codeVerifier,
              redirectUri,
            },
            { ip: ctx.ip },
          );
          setSignInCookies(ctx, session, cookies);
          ctx.set('Cache-Control', 'no-store');
          ctx.redirect(options.frontendUrl);
        },
      }),
      route({
        method: 'get',
        path: '/auth/accounts',
        tag: 'auth',
        summary: 'Your linked sign-in accounts',
        response: z.object({ items: z.array(OAuthAccountWire) }),
        handler: async ({ actor }) => ({
          items: (await useCases.listOAuthAccounts.execute(actor)).map(accountToWire),
        }),
      }),
      route({
        method: 'delete',
        path: '/auth/accounts/{id}',
        tag: 'auth',
        summary: 'Unlink one of your sign-in accounts (not your last way to sign in)',
        params: idParams(),
        resource: 'OAuth account',
        status: 204,
        handler: async ({ actor, params }) => useCases.unlinkOAuthAccount.execute(actor, params.id),
      }),
    ];
  };
