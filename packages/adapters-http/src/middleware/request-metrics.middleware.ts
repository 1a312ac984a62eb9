import { performance } from 'node:perf_hooks';
import type { Middleware } from 'koa';

/** One answered request, for metrics. */
export interface RequestRecord {
  method: string;
  /**
   * The template of the route that answered (`/api/v1/projects/:projectId`), never the path with
   * its ids; `unmatched` when no route did (404, 405), so the set of values stays bounded.
   */
  route: string;
  status: number;
  durationMs: number;
}

/** Told about every request once its handler returned; must be cheap and must not throw. */
export type RequestObserver = (request: RequestRecord) => void;

export const UNMATCHED_ROUTE = 'unmatched';

/**
 * Measures each request and tells `observe` its route template and status. Outermost, so the
 * status is the one the error middleware set. A streamed body (Server-Sent Events) is measured
 * until its handler returned, not until the stream ends.
 */
export function requestMetrics(observe: RequestObserver): Middleware {
  return async (ctx, next) => {
    const start = performance.now();
    try {
      await next();
    } finally {
      // Set by @koa/router on the route that matched.
      const matched = (ctx as { _matchedRoute?: string | RegExp })._matchedRoute;
      observe({
        method: ctx.method,
        route: matched === undefined ? UNMATCHED_ROUTE : String(matched),
        status: ctx.status,
        durationMs: performance.now() - start,
      });
    }
  };
}
