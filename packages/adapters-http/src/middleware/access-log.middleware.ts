import type { Middleware } from 'koa';
import type { Logger } from 'pino';

/** One structured line per request, after the response: who, what, how it ended, how long. */
export function accessLog(logger: Logger): Middleware {
  return async (ctx, next) => {
    // At a level that drops the line (`LOG_LEVEL=warn`), nothing of it is worked out.
    if (!logger.isLevelEnabled('info')) return next();
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const principal = ctx.state.auth?.principal;
      logger.info(
        {
          req_id: ctx.state.requestId,
          method: ctx.method,
          path: ctx.path,
          status: ctx.status,
          duration_ms: Number((process.hrtime.bigint() - started) / 1000n) / 1000,
          ip: ctx.ip,
          ...(principal === undefined ? {} : { tenant_id: principal.tenantId, user_id: principal.userId }),
        },
        'request',
      );
    }
  };
}
