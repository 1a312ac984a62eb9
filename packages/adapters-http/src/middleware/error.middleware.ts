import { type AppError, type ErrorCode, isAppError, RateLimitedError, snakeCase } from '@shipyard/core';
import type { Context, Middleware } from 'koa';
import type { Logger } from 'pino';

/** HTTP status of every core error code. */
export const STATUS_OF: Readonly<Record<ErrorCode, number>> = {
  not_found: 404,
  validation_error: 422,
  authentication_error: 401,
  authorization_error: 403,
  conflict: 409,
  bad_request: 400,
  rate_limited: 429,
  service_unavailable: 503,
  bad_gateway: 502,
  internal_error: 500,
};

/** Codes for errors raised by Koa and its body parser (they carry `status` and `expose`). */
const HTTP_CODES: Readonly<Record<number, string>> = {
  400: 'bad_request',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
};

/**
 * Field names in details are reported in the wire's snake_case; an env var's name
 * (`vars.API_KEY`) is data, not a field, and stays as it was sent.
 */
function wireDetails(error: AppError): unknown {
  if (error.code !== 'validation_error' || !Array.isArray(error.details)) return error.details;
  return (error.details as { field: string; message: string }[]).map((issue) => ({
    field: issue.field.startsWith('vars.') ? issue.field : issue.field.split('.').map(snakeCase).join('.'),
    message: issue.message,
  }));
}

function body(ctx: Context, code: string, message: string, details: unknown) {
  return { error: { code, message, details: details ?? null, request_id: ctx.state.requestId as string } };
}

interface HttpLikeError {
  status?: number;
  statusCode?: number;
  expose?: boolean;
  message?: string;
}

/**
 * The one place errors become responses: core errors by their code, Koa's client errors by
 * their status, anything else a 500 with a generic message. Each error is logged once, with
 * the request id; 5xx with the stack, 4xx as a short line.
 */
export function errorHandler(logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        ctx.status = 404;
        ctx.body = body(ctx, 'not_found', `No route for ${ctx.method} ${ctx.path}`, null);
      } else if ((ctx.status === 405 || ctx.status === 501) && ctx.body === undefined) {
        // Set by the routers' allowedMethods (with an `Allow` header), without a body.
        const code = ctx.status === 405 ? 'method_not_allowed' : 'not_implemented';
        ctx.body = body(ctx, code, `Method ${ctx.method} is not allowed on ${ctx.path}`, null);
      }
    } catch (caught) {
      const log = { req_id: ctx.state.requestId, method: ctx.method, path: ctx.path };
      if (isAppError(caught)) {
        const status = STATUS_OF[caught.code];
        ctx.status = status;
        if (caught instanceof RateLimitedError) ctx.set('Retry-After', String(caught.retryAfterSeconds));
        if (status >= 500) {
          logger.error({ ...log, err: caught, code: caught.code }, 'request failed');
          const message =
            caught.code === 'service_unavailable' || caught.code === 'bad_gateway'
              ? caught.message
              : 'Internal server error';
          ctx.body = body(ctx, caught.code, message, null);
        } else {
          logger.info({ ...log, code: caught.code, status }, caught.message);
          ctx.body = body(ctx, caught.code, caught.message, wireDetails(caught));
        }
        return;
      }
      const httpError = caught as HttpLikeError;
      const status = httpError.status ?? httpError.statusCode;
      if (status !== undefined && status >= 400 && status < 500 && httpError.expose !== false) {
        const code = HTTP_CODES[status] ?? 'bad_request';
        ctx.status = status;
        logger.info({ ...log, code, status }, httpError.message ?? code);
        const message =
          status === 413
            ? 'Request body is larger than 1 MB'
            : status === 400
              ? 'Malformed request body'
              : (httpError.message ?? code);
        ctx.body = body(ctx, code, message, null);
        return;
      }
      logger.error({ ...log, err: caught }, 'unexpected error');
      ctx.status = 500;
      ctx.body = body(ctx, 'internal_error', 'Internal server error', null);
    }
  };
}
