import type { OpenAPIRegistry, ResponseConfig, RouteConfig } from '@asteasolutions/zod-to-openapi';
import type { Router } from '@koa/router';
import {
  type Authenticated,
  type FieldIssue,
  isUuid,
  NotFoundError,
  type Principal,
  type UseCases,
  ValidationError,
} from '@shipyard/core';
import type { Context } from 'koa';
import type { ZodType } from 'zod';
import type { CsrfTokens } from './auth/csrf.js';
import { authenticate } from './middleware/auth.middleware.js';
import { z } from './openapi/zod.js';
import { ErrorWire } from './wire.js';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface HandlerInput<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  ctx: Context;
}

export interface AuthedInput<P, Q, B> extends HandlerInput<P, Q, B> {
  actor: Principal;
  auth: Authenticated;
}

interface BaseSpec<P extends ZodType, Q extends ZodType, B extends ZodType> {
  method: Method;
  /** OpenAPI-style path under /api/v1 (`/projects/{id}`). */
  path: string;
  tag: string;
  summary: string;
  description?: string;
  params?: P;
  query?: Q;
  body?: B;
  /** Success status; 204 sends no body. */
  status?: 200 | 201 | 202 | 204 | 302;
  response?: ZodType;
  /** Label of the resource a malformed path id is reported as (`Project not found`). */
  resource?: string;
  /**
   * Request headers the route reads, validated (422) and documented; other headers are ignored.
   * Keys in lower case, as Node gives them; the handler reads them from `ctx`.
   */
  headers?: ZodType;
  /**
   * A success response that is not JSON: its media types (each with a schema) and headers, for the
   * OpenAPI document. The handler then writes the response itself (`ctx.type`, `ctx.body`, a
   * stream) and its result is ignored.
   */
  produces?: {
    description: string;
    content: Record<string, { schema: ZodType }>;
    headers?: Record<string, { description: string; schema: { type: 'string' | 'boolean' } }>;
  };
}

export interface PublicRouteSpec<P extends ZodType, Q extends ZodType, B extends ZodType> extends BaseSpec<P, Q, B> {
  auth: false;
  handler: (input: HandlerInput<z.output<P>, z.output<Q>, z.output<B>>) => Promise<unknown>;
}

export interface AuthedRouteSpec<P extends ZodType, Q extends ZodType, B extends ZodType> extends BaseSpec<P, Q, B> {
  auth?: true;
  handler: (input: AuthedInput<z.output<P>, z.output<Q>, z.output<B>>) => Promise<unknown>;
}

export type RouteSpec<P extends ZodType = ZodType, Q extends ZodType = ZodType, B extends ZodType = ZodType> =
  | PublicRouteSpec<P, Q, B>
  | AuthedRouteSpec<P, Q, B>;

/** Keeps the handler's input types tied to its schemas. */
export const route = <P extends ZodType = ZodType, Q extends ZodType = ZodType, B extends ZodType = ZodType>(
  spec: RouteSpec<P, Q, B>,
): RouteSpec => spec as unknown as RouteSpec;

/** Paths of strings holding a NUL character (PostgreSQL text cannot store one). */
function nulStrings(value: unknown, path: string, found: string[], depth = 0): void {
  if (typeof value === 'string') {
    if (value.includes('\u0000')) found.push(path === '' ? 'body' : path);
  } else if (typeof value === 'object' && value !== null && depth < 32) {
    for (const [key, item] of Object.entries(value)) {
      if (key.includes('\u0000')) found.push(path === '' ? 'body' : path);
      else nulStrings(item, path === '' ? key : `${path}.${key}`, found, depth + 1);
    }
  }
}

/** Turns zod issues into a `ValidationError` naming each field (unknown keys included). */
export function parse<T extends ZodType>(schema: T, value: unknown, prefix = ''): z.output<T> {
  const nul: string[] = [];
  nulStrings(value, prefix, nul);
  if (nul.length > 0) {
    throw new ValidationError(nul.map((field) => ({ field, message: 'must not contain NUL characters' })));
  }
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues: FieldIssue[] = [];
  for (const issue of result.error.issues) {
    const path = [prefix, ...issue.path.map(String)].filter((p) => p !== '').join('.');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys)
        issues.push({ field: path === '' ? key : `${path}.${key}`, message: 'is not allowed' });
    } else {
      issues.push({ field: path === '' ? 'body' : path, message: issue.message });
    }
  }
  throw new ValidationError(issues);
}

export interface RouteContext {
  useCases: UseCases;
  /** Origins a cookie-authenticated unsafe request may come from. */
  allowedOrigins: ReadonlySet<string>;
  /** The session-bound CSRF tokens a cookie-authenticated unsafe request must echo. */
  csrf: CsrfTokens;
}

const ERROR_RESPONSES = {
  400: 'Malformed request',
  401: 'Not authenticated',
  403: 'Not allowed for this role',
  404: 'Not found (or in another tenant)',
  409: 'Conflict with the current state',
  413: 'Body larger than 1 MB',
  422: 'Invalid input; details name the fields',
  429: 'Too many requests; see Retry-After',
  503: 'A dependency is unavailable',
} as const;

const NO_FIELDS = z.strictObject({});

/** Registers routes on the router (validation, auth, status) and in the OpenAPI registry. */
export function mountRoutes(router: Router, registry: OpenAPIRegistry, specs: RouteSpec[], context: RouteContext) {
  for (const spec of specs) {
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

    const status = spec.status ?? 200;
    const success: ResponseConfig =
      spec.produces !== undefined
        ? (spec.produces as ResponseConfig)
        : spec.response === undefined
          ? { description: status === 204 ? 'No content' : 'Done' }
          : { description: 'Success', content: { 'application/json': { schema: spec.response } } };
    const config: RouteConfig = {
      method: spec.method,
      path: `/api/v1${spec.path}`,
      tags: [spec.tag],
      summary: spec.summary,
      ...(spec.description === undefined ? {} : { description: spec.description }),
      // Public operations say so (`security: []`); without it they would inherit nothing and read as unspecified.
      security: authed ? [{ bearer: [] }, { cookie: [] }] : [],
      request: {
        ...(spec.params === undefined ? {} : { params: spec.params as never }),
        ...(spec.query === undefined ? {} : { query: spec.query as never }),
        ...(spec.headers === undefined ? {} : { headers: spec.headers as never }),
        ...(spec.body === undefined
          ? {}
          : { body: { content: { 'application/json': { schema: spec.body } }, required: true } }),
      },
      responses: {
        [status]: success,
        ...Object.fromEntries(
          Object.entries(ERROR_RESPONSES).map(([code, description]) => [
            code,
            { description, content: { 'application/json': { schema: ErrorWire } } },
          ]),
        ),
      },
    };
    registry.registerPath(config);
  }
}
