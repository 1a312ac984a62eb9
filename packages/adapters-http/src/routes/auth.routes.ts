import { AuthenticationError } from '@shipyard/core';
import { clearSessionCookies, REFRESH_COOKIE, setSessionCookies } from '../auth/cookies.js';
import { z } from '../openapi/zod.js';
import { type RouteSpec, route } from '../route.js';
import { RegisterWire, sessionToWire, TokenWire, tenantToWire, UserWire, userToWire } from '../wire.js';
import { optionalText, type RouteDeps } from './route-deps.js';

const RegisterBody = z
  .strictObject({
    tenant_name: z.string().min(1).max(100),
    email: z.string().max(254),
    password: z.string().max(256),
    full_name: optionalText(200),
  })
  .openapi('RegisterRequest');

const LoginBody = z.strictObject({ email: z.string().max(254), password: z.string().max(256) }).openapi('LoginRequest');
const RefreshBody = z
  .strictObject({ refresh_token: z.string().max(4096).optional() })
  .openapi('RefreshRequest', { description: 'The refresh token, or none to use the refresh cookie' });

const INVALID_CREDENTIALS = 'Invalid email or password';

export const authRoutes = ({ useCases, rateLimits, cookies }: RouteDeps): RouteSpec[] => [
  route({
    method: 'post',
    path: '/auth/register',
    tag: 'auth',
    summary: 'Create a tenant and its owner, and sign in',
    auth: false,
    body: RegisterBody,
    status: 201,
    response: RegisterWire,
    handler: async ({ body, ctx }) => {
      await rateLimits.consumeIp(ctx.ip);
      const session = await useCases.register.execute(
        {
          tenantName: body.tenant_name,
          email: body.email,
          password: body.password,
          fullName: body.full_name ?? null,
        },
        { ip: ctx.ip },
      );
      setSessionCookies(ctx, session, cookies);
      return { ...sessionToWire(session), tenant: tenantToWire(session.tenant) };
    },
  }),
  route({
    method: 'post',
    path: '/auth/login',
    tag: 'auth',
    summary: 'Sign in with email and password',
    description: 'Five failed attempts in a row lock the email for 15 minutes (401 with Retry-After).',
    auth: false,
    body: LoginBody,
    response: TokenWire,
    handler: async ({ body, ctx }) => {
      await rateLimits.consumeIp(ctx.ip);
      const locked = await rateLimits.beginLoginAttempt(body.email);
      if (locked > 0) {
        ctx.set('Retry-After', String(locked));
        throw new AuthenticationError(INVALID_CREDENTIALS);
      }
      const session = await useCases.login.execute({ email: body.email, password: body.password }, { ip: ctx.ip });
      await rateLimits.clearFailedLogins(body.email);
      setSessionCookies(ctx, session, cookies);
      return sessionToWire(session);
    },
  }),
  route({
    method: 'post',
    path: '/auth/refresh',
    tag: 'auth',
    summary: 'Exchange a refresh token for a new pair',
    description: 'Refresh tokens are single-use; presenting one twice revokes its whole family.',
    auth: false,
    body: RefreshBody,
    response: TokenWire,
    handler: async ({ body, ctx }) => {
      await rateLimits.consumeIp(ctx.ip);
      const token = body.refresh_token ?? ctx.cookies.get(REFRESH_COOKIE);
      if (token === undefined || token === '') throw new AuthenticationError('Refresh token required');
      const session = await useCases.refreshSession.execute(token, { ip: ctx.ip });
      setSessionCookies(ctx, session, cookies);
      return sessionToWire(session);
    },
  }),
  route({
    method: 'post',
    path: '/auth/logout',
    tag: 'auth',
    summary: 'Revoke the access token and its refresh family, and clear the cookies',
    status: 204,
    handler: async ({ actor, auth, ctx }) => {
      await useCases.logout.execute(actor, auth.token);
      clearSessionCookies(ctx, cookies);
    },
  }),
  route({
    method: 'get',
    path: '/auth/me',
    tag: 'auth',
    summary: 'The signed-in user',
    response: UserWire,
    handler: async ({ actor, auth }) => userToWire(await useCases.getMe.execute(actor, auth.user)),
  }),
];
