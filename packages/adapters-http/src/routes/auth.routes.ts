import { AuthenticationError, normalizeEmail } from '@shipyard/core';
import {
  clearSessionCookies,
  knownDevice,
  REFRESH_COOKIE,
  setSessionCookies,
  setSignInCookies,
} from '../auth/cookies.js';
import { z } from '../openapi/zod.js';
import { RegisterWire, sessionToWire, TokenWire } from './auth.wire.js';
import { optionalText, type RouteDeps } from './route-deps.js';
import { type RouteSpec, route } from './route-spec.js';
import { tenantToWire } from './tenant.wire.js';
import { UserWire, userToWire } from './user.wire.js';

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

const TokenBody = z.strictObject({ token: z.string().max(300) }).openapi('EmailLinkRequest', {
  description: 'The token of an emailed link (the part after `#token=`)',
});
const ForgotPasswordBody = z.strictObject({ email: z.string().max(254) }).openapi('ForgotPasswordRequest');
const ResetPasswordBody = z
  .strictObject({ token: z.string().max(300), password: z.string().max(256) })
  .openapi('ResetPasswordRequest');
const ChangePasswordBody = z
  .strictObject({ current_password: z.string().max(256), new_password: z.string().max(256) })
  .openapi('ChangePasswordRequest');

const AcceptedWire = z.object({ message: z.string() }).openapi('Accepted');

const INVALID_CREDENTIALS = 'Invalid email or password';

export const authRoutes = ({ useCases, rateLimits, accountLimits, cookies }: RouteDeps): RouteSpec[] => [
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
      setSignInCookies(ctx, session, cookies);
      return { ...sessionToWire(session), tenant: tenantToWire(session.tenant) };
    },
  }),
  route({
    method: 'post',
    path: '/auth/login',
    tag: 'auth',
    summary: 'Sign in with email and password',
    description:
      'Five failed attempts in a row lock the email for 15 minutes (401 with Retry-After), except from a device that signed in to the account before (the `device_token` cookie set by every sign-in): its attempts count against the device alone.',
    auth: false,
    body: LoginBody,
    response: TokenWire,
    handler: async ({ body, ctx }) => {
      await rateLimits.consumeIp(ctx.ip);
      const device = knownDevice(ctx, body.email, cookies);
      const locked = await rateLimits.beginLoginAttempt(body.email, device);
      if (locked > 0) {
        ctx.set('Retry-After', String(locked));
        throw new AuthenticationError(INVALID_CREDENTIALS);
      }
      const session = await useCases.login.execute({ email: body.email, password: body.password }, { ip: ctx.ip });
      await rateLimits.clearFailedLogins(body.email, device);
      setSignInCookies(ctx, session, cookies);
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
    method: 'post',
    path: '/auth/verify-email',
    tag: 'auth',
    summary: 'Verify the email address with the token of an emailed link',
    description: 'Single-use; a link expires after 2 days. An invalid, used or expired token is 422 (field `token`).',
    auth: false,
    body: TokenBody,
    status: 204,
    handler: async ({ body, ctx }) => {
      await rateLimits.consumeIp(ctx.ip);
      await useCases.verifyEmail.execute(body.token, { ip: ctx.ip });
    },
  }),
  route({
    method: 'post',
    path: '/auth/resend-verification',
    tag: 'auth',
    summary: 'Mail the signed-in user a new verification link',
    description:
      'The earlier link stops working. Five per user per hour (429 with Retry-After past it); 409 when the address is already verified.',
    status: 202,
    response: AcceptedWire,
    handler: async ({ actor, ctx }) => {
      await rateLimits.consumeIp(ctx.ip);
      await accountLimits.consume('verificationMail', actor.userId);
      await useCases.resendVerification.execute(actor);
      return { message: 'A verification link is on its way' };
    },
  }),
  route({
    method: 'post',
    path: '/auth/forgot-password',
    tag: 'auth',
    summary: 'Mail a password-reset link',
    description:
      'Always 202, whatever the email: only a verified address of an active user is mailed a link (valid 1 hour), and an invited user who never set a password a fresh invitation. At most five mails per address per hour.',
    auth: false,
    body: ForgotPasswordBody,
    status: 202,
    response: AcceptedWire,
    handler: async ({ body, ctx }) => {
      await rateLimits.consumeIp(ctx.ip);
      const answer = { message: 'If this address belongs to an account, a link is on its way' };
      // Past the address' budget the answer is the same, and nothing is sent.
      const key = normalizeEmail(body.email);
      if (!(await accountLimits.tryConsume('resetMail', key))) return answer;
      await useCases.forgotPassword.execute({ email: body.email }, { ip: ctx.ip });
      return answer;
    },
  }),
  route({
    method: 'post',
    path: '/auth/reset-password',
    tag: 'auth',
    summary: 'Set a new password with a reset or invitation link',
    description:
      'Single-use. Every session of the user ends (access tokens stop at once, refresh tokens are revoked); sign in again. The link also verifies the address. An invalid, used or expired token is 422 (field `token`).',
    auth: false,
    body: ResetPasswordBody,
    status: 204,
    handler: async ({ body, ctx }) => {
      await rateLimits.consumeIp(ctx.ip);
      const user = await useCases.resetPassword.execute({ token: body.token, password: body.password }, { ip: ctx.ip });
      // Whoever reads the mail may sign in: the address' failed attempts are forgotten.
      await rateLimits.clearFailedLogins(user.email);
    },
  }),
  route({
    method: 'post',
    path: '/auth/change-password',
    tag: 'auth',
    summary: 'Change the password, ending every session, and sign in anew',
    description:
      'Needs the current password (422 on `current_password` when wrong). Every session of the user ends, this one included; the answer carries the tokens of a new session (and sets its cookies).',
    body: ChangePasswordBody,
    response: TokenWire,
    handler: async ({ actor, body, ctx }) => {
      await rateLimits.consumeIp(ctx.ip);
      const session = await useCases.changePassword.execute(
        actor,
        { currentPassword: body.current_password, newPassword: body.new_password },
        { ip: ctx.ip },
      );
      setSignInCookies(ctx, session, cookies);
      return sessionToWire(session);
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
