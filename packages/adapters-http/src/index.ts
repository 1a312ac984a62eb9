export { apiRoutes, createHttpApp, type HttpAppOptions } from './app.js';
export { type AccountRateLimitOptions, AccountRateLimits } from './auth/account-limits.js';
export { Argon2PasswordHasher } from './auth/argon2-password-hasher.js';
export { BundledCommonPasswords } from './auth/bundled-common-passwords.js';
export { ACCESS_COOKIE, CSRF_COOKIE, CSRF_HEADER, DEVICE_COOKIE, REFRESH_COOKIE } from './auth/cookies.js';
export { CsrfTokens } from './auth/csrf.js';
export { DEVICE_COOKIE_DAYS, DeviceCookies } from './auth/device-cookie.js';
export { GITHUB_SCOPES, type GitHubOAuthOptions, GitHubOAuthProvider } from './auth/github-oauth-provider.js';
export { JoseTokenIssuer, type JoseTokenIssuerOptions, type SigningKey } from './auth/jose-token-issuer.js';
export { OAuthStateCookie } from './auth/oauth-state.js';
export { type AuthRateLimitOptions, AuthRateLimits } from './auth/rate-limits.js';
export { RedisTokenBlacklist } from './auth/redis-token-blacklist.js';
export { type HealthCheck, HealthProbe, type HealthReport } from './health.js';
export { HTTP_TOKENS, type HttpModuleOptions, httpModule } from './http.module.js';
export type { LogStreamOptions } from './log-stream.js';
export { SmtpMailer, type SmtpMailerOptions } from './mail/smtp-mailer.js';
export { STATUS_OF } from './middleware/error.middleware.js';
export {
  type RequestObserver,
  type RequestRecord,
  UNMATCHED_ROUTE,
} from './middleware/request-metrics.middleware.js';
export { createRedisClient, type RedisClientOptions } from './redis-client.js';
export type { OAuthRouteOptions } from './routes/oauth.routes.js';
export type { RouteDeps } from './routes/route-deps.js';
export { type RouteSpec, route } from './routes/route-spec.js';
