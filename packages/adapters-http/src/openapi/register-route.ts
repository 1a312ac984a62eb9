import type { OpenAPIRegistry, ResponseConfig, RouteConfig } from '@asteasolutions/zod-to-openapi';
import { ErrorWire } from '../routes/common.wire.js';
import type { RouteSpec } from '../routes/route-spec.js';

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

/** Adds one route to the OpenAPI registry: its request schemas, its success response and the shared error responses. */
export function registerRoute(registry: OpenAPIRegistry, spec: RouteSpec): void {
  const authed = spec.auth !== false;
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
