import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { Router } from '@koa/router';
import { isUuid, NotFoundError, type UseCases } from '@shipyard/core';
import type { ZodType } from 'zod';
import type { CsrfTokens } from '../auth/csrf.js';
import { authenticate } from '../middleware/auth.middleware.js';
import { registerRoute } from '../openapi/register-route.js';
import { z } from '../openapi/zod.js';
import { parse } from '../validation/parse.js';
import type { AuthedRouteSpec, PublicRouteSpec, RouteSpec } from './route-spec.js';

export interface RouteContext {
  useCases: UseCases;
  /** Origins a cookie-authenticated unsafe request may come from. */
  allowedOrigins: ReadonlySet<string>;
  /** The session-bound CSRF tokens a cookie-authenticated unsafe request must echo. */
  csrf: CsrfTokens;
}

const NO_FIELDS = z.strictObject({});

/** Adds one route to the Koa router: authentication, path ids, validation of params, query, headers and body, status. */
function mountRoute(router: Router, spec: RouteSpec, context: RouteContext): void {
  const koaPath = spec.path.replace(/\{(\w+)\}/g, ':$1');
  const authed = spec.auth !== false;
  router[spec.method](koaPath, async (ctx) => {
    const auth = authed ? await authenticate(ctx, context.useCases, context.allowedOrigins, context.csrf) : undefined;
    const rawParams = ctx.params as Record<string, string>;
    for (const value of Object.values(rawParams)) {
      if (!isUuid(value)) throw new NotFoundError(spec.resource ?? 'Resource');
    }
    const params = spec.params === undefined ? {} : parse(spec.params, rawParams);
    // A route that takes no query or no body still rejects unknown fields there.
    const query = parse(spec.query ?? NO_FIELDS, ctx.query);
    if (spec.headers !== undefined) parse(spec.headers, ctx.headers);
    const requestBody = (ctx.request as { body?: unknown }).body ?? {};
    const body = spec.body === undefined ? void parse(NO_FIELDS, requestBody) : parse(spec.body, requestBody);
    const input = { params, query, body, ctx };
    const result =
      auth === undefined
        ? await (spec as PublicRouteSpec<ZodType, ZodType, ZodType>).handler(input as never)
        : await (spec as AuthedRouteSpec<ZodType, ZodType, ZodType>).handler({
            ...input,
            // The request's IP travels with the actor, for the audit trail.
            actor: { ...auth.principal, ip: ctx.ip || null },
            auth,
          } as never);
    if (spec.status === 302 || spec.produces !== undefined) return;
    ctx.status = spec.status ?? 200;
    if (ctx.status !== 204) ctx.body = result;
  });
}

/**
 * Registers routes on the router and in the OpenAPI registry, each in the order given: the
 * router matches overlapping paths in that order, and the document lists them so.
 */
export function mountRoutes(router: Router, registry: OpenAPIRegistry, specs: RouteSpec[], context: RouteContext) {
  for (const spec of specs) {
    mountRoute(router, spec, context);
    registerRoute(registry, spec);
  }
}
