import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { bodyParser } from '@koa/bodyparser';
import cors from '@koa/cors';
import { Router } from '@koa/router';
import type { UseCases } from '@shipyard/core';
import Koa from 'koa';
import type { Logger } from 'pino';
import { AccountRateLimits } from './auth/account-limits.js';
import type { CookiePolicy } from './auth/cookies.js';
import { CsrfTokens } from './auth/csrf.js';
import { DeviceCookies } from './auth/device-cookie.js';
import { AuthRateLimits } from './auth/rate-limits.js';
import { type HealthCheck, HealthProbe } from './health.js';
import { type LogStreamOptions, resolveLogStream } from './log-stream.js';
import { accessLog } from './middleware/access-log.middleware.js';
import { errorHandler } from './middleware/error.middleware.js';
import { requestId } from './middleware/request-id.middleware.js';
import { type RequestObserver, requestMetrics } from './middleware/request-metrics.middleware.js';
import { securityHeaders } from './middleware/security-headers.middleware.js';
import { docsAssets } from './openapi/docs.js';
import { auditRoutes } from './routes/audit.routes.js';
import { authRoutes } from './routes/auth.routes.js';
import { buildRoutes } from './routes/build.routes.js';
import { deploymentRoutes } from './routes/deployment.routes.js';
import { jobRoutes } from './routes/job.routes.js';
import { mountRoutes } from './routes/mount-routes.js';
import { type OAuthRouteOptions, oauthRoutes } from './routes/oauth.routes.js';
import { projectRoutes } from './routes/project.routes.js';
import type { RouteDeps } from './routes/route-deps.js';
import type { RouteSpec } from './routes/route-spec.js';
import { serviceRoutes } from './routes/service.routes.js';
import { teamRoutes } from './routes/team.routes.js';
import { tenantRoutes } from './routes/tenant.routes.js';
import { userRoutes } from './routes/user.routes.js';

export interface HttpAppOptions {
  useCases: UseCases;
  logger: Logger;
  /** The server's own external URL (`PUBLIC_URL`). */
  publicUrl: string;
  /** Where browsers come from (`FRONTEND_URL`); allowed for CORS and CSRF origin checks. */
  frontendUrl?: string;
  corsOrigins?: readonly string[];
  /** Turns off /docs and /openapi.json and makes cookies `Secure`. */
  production?: boolean;
  /** `Secure` cookies; defaults to on unless `publicUrl` is plain http outside production. */
  secureCookies?: boolean;
  /** Trust `X-Forwarded-*` (only behind a proxy you control). */
  trustProxy?: boolean;
  rateLimits?: AuthRateLimits;
  /** Limits on user creation and on the mails of the account routes. */
  accountLimits?: AccountRateLimits;
  /**
   * Keys the session-bound CSRF tokens and the device cookies (at least 32 bytes; a key of its own
   * is derived for each). Omitted: a random one per process, so give one (the same to every
   * server) when several share traffic, and keep it across restarts.
   */
  cookieSecret?: Uint8Array;
  healthChecks?: readonly HealthCheck[];
  /** Milliseconds each health check may take. */
  healthTimeoutMs?: number;
  /** How long `GET /health` answers from the last probe before probing again (default 1000 ms). */
  healthMaxAgeMs?: number;
  /** GitHub sign-in routes and the linked-account routes; omitted: not mounted. */
  oauth?: Omit<OAuthRouteOptions, 'publicUrl' | 'frontendUrl'>;
  /** Called after every successful state-changing request (e.g. to nudge the outbox relay). */
  onWrite?: () => void;
  /**
   * Following a log (`GET /builds/{id}/logs`, `GET /deployments/{id}/logs` as Server-Sent Events):
   * poll interval (`pollIntervalMs`, default 250), keepalive, longest stream, and a signal that ends
   * every open stream (on shutdown).
   */
  logStream?: LogStreamOptions;
  /** Extra routes, mounted under /api/v1 like the others. */
  extraRoutes?: (deps: RouteDeps) => RouteSpec[];
  /**
   * Told about every request (method, route template, status, duration), for metrics. Omitted:
   * nothing is added to the request path.
   */
  observeRequest?: RequestObserver;
  /**
   * Serves `GET /metrics` (outside /api/v1) with what this renders, e.g. Prometheus' text format.
   * Omitted: /metrics is 404.
   */
  metrics?: () => Promise<{ contentType: string; body: string }>;
}

const origin = (url: string) => new URL(url).origin;

/** Every route spec of the v1 API, for mounting and for the OpenAPI document. */
export const apiRoutes = (deps: RouteDeps): RouteSpec[] => [
  ...authRoutes(deps),
  ...tenantRoutes(deps),
  ...userRoutes(deps),
  ...teamRoutes(deps),
  ...projectRoutes(deps),
  ...serviceRoutes(deps),
  ...buildRoutes(deps),
  ...deploymentRoutes(deps),
  ...jobRoutes(deps),
  ...auditRoutes(deps),
];

/**
 * The Koa application of the v1 API. Tests drive `app.callback()` directly; the server
 * composition (examples/koa-server) adds `listen` and shutdown.
 */
export function createHttpApp(options: HttpAppOptions): Koa {
  const app = new Koa({ proxy: options.trustProxy ?? false });
  const logger = options.logger;
  const production = options.production ?? false;
  const csrf = new CsrfTokens(options.cookieSecret);
  const cookies: CookiePolicy = {
    secure: options.secureCookies ?? (production || options.publicUrl.startsWith('https:')),
    csrf,
    devices: new DeviceCookies(options.cookieSecret),
  };
  const allowedOrigins = new Set(
    [options.publicUrl, options.frontendUrl, ...(options.corsOrigins ?? [])]
      .filter((u): u is string => u !== undefined && u !== '')
      .map(origin),
  );
  const deps: RouteDeps = {
    useCases: options.useCases,
    rateLimits: options.rateLimits ?? new AuthRateLimits(),
    accountLimits: options.accountLimits ?? new AccountRateLimits(),
    cookies,
    logStream: resolveLogStream(options.logStream),
    logger,
  };

  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  registry.registerComponent('securitySchemes', 'cookie', { type: 'apiKey', in: 'cookie', name: 'access_token' });
  const api = new Router({ prefix: '/api/v1' });
  const oauth =
    options.oauth === undefined
      ? []
      : oauthRoutes({
          ...options.oauth,
          publicUrl: options.publicUrl,
          frontendUrl: options.frontendUrl ?? options.publicUrl,
        })(deps);
  mountRoutes(api, registry, [...apiRoutes(deps), ...oauth, ...(options.extraRoutes?.(deps) ?? [])], {
    useCases: options.useCases,
    allowedOrigins,
    csrf,
  });

  const root = new Router();
  const probe = new HealthProbe(options.healthChecks ?? [], logger, {
    timeoutMs: options.healthTimeoutMs ?? 2000,
    maxAgeMs: options.healthMaxAgeMs ?? 1000,
  });
  root.get('/health', async (ctx) => {
    const report = await probe.report();
    ctx.status = report.healthy ? 200 : 503;
    ctx.set('Cache-Control', 'no-store');
    ctx.type = 'application/json';
    ctx.body = report.body;
  });
  if (options.metrics !== undefined) {
    const render = options.metrics;
    root.get('/metrics', async (ctx) => {
      const { contentType, body } = await render();
      ctx.set('Cache-Control', 'no-store');
      ctx.type = contentType;
      ctx.body = body;
    });
  }
  if (!production) {
    const document = new OpenApiGeneratorV31(registry.definitions).generateDocument({
      openapi: '3.1.0',
      info: {
        title: 'Shipyard API',
        version: '1.0.0',
        description: 'Control plane of an application-deployment platform. Errors share one shape: see `Error`.',
      },
      servers: [{ url: options.publicUrl }],
    });
    const json = JSON.stringify(document);
    root.get('/openapi.json', (ctx) => {
      ctx.type = 'application/json';
      ctx.body = json;
    });
    for (const [path, asset] of Object.entries(docsAssets())) {
      root.get(path, (ctx) => {
        ctx.type = asset.type;
        ctx.set('Cache-Control', 'public, max-age=300');
        ctx.body = asset.body();
      });
    }
  }

  if (options.observeRequest !== undefined) app.use(requestMetrics(options.observeRequest));
  app.use(requestId());
  app.use(accessLog(logger));
  app.use(errorHandler(logger));
  app.use(securityHeaders());
  // Token responses (register, login, refresh, change-password, the OAuth callback) and the rest
  // of the auth routes are never kept by a browser or a proxy cache.
  app.use(async (ctx, next) => {
    if (ctx.path.startsWith('/api/v1/auth/')) {
      ctx.set('Cache-Control', 'no-store');
      ctx.set('Pragma', 'no-cache');
    }
    await next();
  });
  app.use(
    cors({
      origin: (ctx) => {
        const requested = ctx.get('origin');
        return allowedOrigins.has(requested) ? requested : '';
      },
      credentials: true,
      allowHeaders: ['Authorization', 'Content-Type', 'X-CSRF-Token', 'X-Request-Id', 'Last-Event-ID'],
      exposeHeaders: ['X-Request-Id', 'Retry-After', 'X-Log-Cursor', 'X-Log-Ended'],
      maxAge: 600,
    }),
  );
  app.use(
    bodyParser({
      enableTypes: ['json'],
      jsonLimit: '1mb',
      encoding: 'utf-8',
      onError: (error: Error & { status?: number }) => {
        throw error;
      },
    }),
  );
  if (options.onWrite !== undefined) {
    const onWrite = options.onWrite;
    app.use(async (ctx, next) => {
      await next();
      if (ctx.method !== 'GET' && ctx.method !== 'HEAD' && ctx.status < 400) onWrite();
    });
  }
  app.use(root.routes());
  app.use(root.allowedMethods());
  app.use(api.routes());
  app.use(api.allowedMethods());
  return app;
}
