import type { Authenticated, Principal } from '@shipyard/core';
import type { Context } from 'koa';
import type { ZodType } from 'zod';
import type { z } from '../openapi/zod.js';

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
